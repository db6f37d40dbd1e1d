"""Custom ids have one spelling (issue 22): every persistent component's template refuses a
forged number spelled another way (leading zeros, signs, whitespace, other scripts' digits),
and the one parser refuses them again."""

from __future__ import annotations

import importlib
import pkgutil

import discord
import pytest

import cogs
from cogs._shared.custom_ids import num_list, parse_id, parse_ids

#: One genuine custom id per persistent component (a new DynamicItem must be added here).
SAMPLES = {
    "BuyButton": "trade:buy:1",
    "ConfirmBuyButton": "trade:buyok:1:100:2",
    "OfferButton": "trade:offer:5:accept:100",
    "TradeActionButton": "trade:act:5:deliver",
    "ResultsButton": "mkt:r:2:next:~abc",
    "ShowButton": "mkt:show:1:2",
    "GalleryButton": "mkt:img:1:0:next",
    "WishlistButton": "mkt:wish:1",
    "PublishButton": "mkt:pub:1",
    "CancelButton": "mkt:cancel:1",
    "ApproveButton": "mkt:approve:1",
    "RejectButton": "mkt:reject:1",
    "ReviewButton": "guide:rev:123:4:approve",
    "UpvoteButton": "guide:up:123:4",
    "ProposalButton": "mship:p:123:4:accept",
    "ApprovalButton": "mship:lead:123:456:approve",
    "LeaderboardButton": "gems:lb:0:2:next",
    "HistoryButton": "gems:hist:123:2:prev",
    "HelpPageButton": "help:page:123:2:next",
    "ConfirmDeleteButton": "gems:privacy:delete:123",
    "DailyBoardButton": "ch:lbd:0:2:next",
    "WeeklyBoardButton": "ch:lbw:0:2:next",
    "AllTimeBoardButton": "ch:lba:0:2:next",
    "StreakBoardButton": "ch:lbs:0:2:next",
    "VoteButton": "chvote:abcdef012345",
    "AcceptButton": "chaccept:abcdef012345",
    "SectionSelect": "gset:s:sec",
    "ChannelPick": "gset:s:ch:trade_channel_id",
    "RolePick": "gset:w:ro:admin_role_id",
    "OptionPick": "gset:s:op:double_weekend",
    "GoButton": "gset:s:go:trades:1:n",
    "FormButton": "gset:w:form:core:0:0",
    "DoneButton": "gset:w:done",
    "EventButton": "ev:join:1",
    "WinnerSelect": "ev:win:1:123",
    "ConfirmWinnersButton": "ev:winok:1:123:5-6",
    "PayUsdButton": "pay:usd:1:500",
    "BuyPackButton": "pay:pack:1:500",
    "ShopPageButton": "shop:page:0:2:next",
    "ShopBuyButton": "shop:buy:1",
    "ShopConfirmButton": "shop:ok:1:30:2:123",
    "ShopGiftButton": "shop:gift:1:5:30:2:123",
    "TicketFulfilButton": "shop:ful:shopgift:1:5:6:123",
    "TicketRefundButton": "shop:rfd:shop:1:5:123",
}


def _dynamic_items() -> dict[str, type]:
    for info in pkgutil.walk_packages(cogs.__path__, "cogs."):
        importlib.import_module(info.name)
    found, todo = {}, list(discord.ui.DynamicItem.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.__module__.startswith("cogs.") and "__abstract" not in cls.__discord_ui_compiled_template__.pattern:
            found[cls.__name__] = cls
    return found


ITEMS = _dynamic_items()


def _spellings(digits: str) -> list[str]:
    """Other spellings of a number a forging client might send."""
    arabic = "".join(chr(0x0660 + int(d)) for d in digits)
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in digits)
    return ["0" + digits, "00" + digits, "+" + digits, "-" + digits, " " + digits, digits + " ",
            digits + "\n", arabic, fullwidth, digits[:1] + "_" + digits[1:] if len(digits) > 1
            else digits + "_0", "0x" + digits]


def test_every_persistent_component_has_a_sample():
    assert set(ITEMS) == set(SAMPLES), set(ITEMS) ^ set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_number_of_each_custom_id_has_one_spelling(name):
    pattern = ITEMS[name].__discord_ui_compiled_template__
    match = pattern.fullmatch(SAMPLES[name])
    assert match is not None, (name, SAMPLES[name])
    forged = 0
    for group, value in match.groupdict().items():
        if not value or not value.isdigit():
            continue
        start, end = match.span(group)
        for spelling in _spellings(value):
            custom_id = SAMPLES[name][:start] + spelling + SAMPLES[name][end:]
            assert pattern.fullmatch(custom_id) is None, (name, custom_id)
            forged += 1
    assert forged or name in ("SectionSelect", "ChannelPick", "RolePick", "OptionPick",
                              "DoneButton", "VoteButton", "AcceptButton"), name


def test_the_forged_event_join_of_the_issue_is_refused():
    pattern = ITEMS["EventButton"].__discord_ui_compiled_template__
    assert pattern.fullmatch("ev:join:000000000001") is None
    assert pattern.fullmatch("ev:join:1")["event"] == "1"


@pytest.mark.parametrize("ids", ["05-6", "5-06", "5--6", "-5", "5-", "+5-6", "5-6-7-8", " 5"])
def test_winner_lists_have_one_spelling(ids):
    pattern = ITEMS["ConfirmWinnersButton"].__discord_ui_compiled_template__
    assert pattern.fullmatch(f"ev:winok:1:123:{ids}") is None


@pytest.mark.parametrize("text", ["01", "+1", "-1", " 1", "1 ", "١", "１", "1_0", "", "1e3",
                                  "9" * 20, None])
def test_the_parser_refuses_every_other_spelling(text):
    assert parse_id(text) == -1


def test_the_parser_reads_canonical_numbers():
    assert [parse_id(t) for t in ("0", "7", "1234567890123456789")] == [0, 7, 1234567890123456789]
    assert parse_ids("5-6") == [5, 6] and parse_ids("") == [] and parse_ids("5-06") == [5, -1]
    with pytest.raises(ValueError):
        num_list("x", 0)
