"""Text made only of invisible characters is refused everywhere; numbers the store can't hold too."""

from __future__ import annotations

import pytest

from economy.core.actor import Actor
from economy.core.errors import GemsError, InvalidInput
from economy.core.text import clean_text, visible_length
from tests.conftest import relax_offer_limits

pytestmark = pytest.mark.timeout(60)

G = 12
BLANKS = ["\u200b\u200b\u200b\u200b\u200b\u200b", "\u3164\u3164\u3164\u3164\u3164\u3164",
          "\u2800\u2800\u2800\u2800\u2800\u2800", "\u2060 \u2060 \u2060 \u2060", " \u00a0\u3000 ",
          "\u115f\u1160\uffa0\u034f\u180e\u200e"]


@pytest.mark.parametrize("blank", BLANKS)
def test_invisible_text_counts_as_empty(blank):
    assert visible_length(blank) == 0
    assert clean_text(blank, 100, "note") is None


def test_emoji_and_real_text_survive():
    assert clean_text("  a\u200bb  👨\u200d👩\u200d👧 ", 100, "note") == "ab 👨\u200d👩\u200d👧"
    assert visible_length("ok") == 2


async def snapshot(services):
    out = []
    for name in ("trades", "ledger", "accounts", "listings", "market_alerts", "audit_log"):
        out.append(sorted(map(repr, await services.db[name].find({}, {"_id": 0}).to_list())))
    return out


@pytest.mark.parametrize("blank", BLANKS)
async def test_every_text_field_refuses_invisible_text(services, blank):
    await relax_offer_limits(services, G)
    await services.ledger.grant(G, Actor.system(), 1, 500, reason="seed", key="seed")
    trade = await services.trades.offer(G, 2, 1, 100, "a real description")
    await services.trades.accept(G, trade.trade_id, 1)
    before = await snapshot(services)
    attempts = [
        services.trades.offer(G, 2, 1, 100, blank),
        services.disputes.open(G, trade.trade_id, 1, blank),
        services.ledger.grant(G, Actor.system(), 1, 5, reason=blank, key="g"),
        services.marketplace.watch.add_alert(G, 1, keywords=blank, category=None, max_price_gems=None),
        services.marketplace.listings.create_draft(G, 1, category="rings", condition="new", title=blank,
                                          description="fine", price_gems=5),
        services.marketplace.listings.create_draft(G, 1, category="rings", condition="new",
                                          title="Fine title", description=blank, price_gems=5),
    ]
    for attempt in attempts:
        with pytest.raises(GemsError):
            await attempt
    assert await snapshot(services) == before


async def test_alert_keywords_are_capped(services):
    with pytest.raises(InvalidInput, match="at most 100"):
        await services.marketplace.watch.add_alert(G, 1, keywords="ruby " * 30, category=None,
                                             max_price_gems=None)


@pytest.mark.parametrize("bound", ["²", "١٢", "𝟗", "1e5", "9" * 30, "-5"])
async def test_price_bounds_the_store_cannot_hold_are_invalid_input(services, bound):
    settings = await services.settings.get(G)
    with pytest.raises(InvalidInput, match="whole numbers"):
        services.marketplace.search.build_query(settings, min_price=bound)


@pytest.mark.parametrize("token", ['{"price_min":1000000000000000000000}', '{"seller_id":-1}',
                                   '{"seller_id":99999999999999999999}', "not json", "~zzzz"])
async def test_forged_search_tokens_are_not_found(services, token):
    from economy.core.errors import NotFound
    with pytest.raises(NotFound):
        await services.marketplace.search.query_from_token(G, token)


def test_forged_custom_id_numbers_become_ids_no_document_has():
    from cogs._shared.custom_ids import parse_id
    assert parse_id("42") == 42
    assert parse_id("9" * 40) == -1
    assert parse_id(str(2**63)) == -1 and parse_id(str(2**63 - 1)) == 2**63 - 1


async def test_forged_huge_ids_get_not_found_from_the_services(services):
    from economy.core.errors import NotFound
    with pytest.raises(NotFound):
        await services.trades.get(G, -1, Actor(1))
    with pytest.raises(NotFound):
        await services.marketplace.listings.get(G, -1)
