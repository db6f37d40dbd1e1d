"""A member whose nickname is markdown, a mention and bidi controls: every place that shows it
escapes it (embeds, DMs), so it can't ping, format or spoof anything."""

from __future__ import annotations

import pytest

from tests.trades.test_trade_commands import seed

pytestmark = pytest.mark.timeout(60)

HOSTILE = "**@everyone** <@&1> `x` __y__"


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _rendered(message) -> str:
    return "\n".join(_strings([message.content, message.raw_embeds]))


def _assert_escaped(text: str) -> None:
    assert "**@everyone**" not in text and "\\*\\*" in text, text
    assert "@\u200beveryone" in text, text  # escape_mentions breaks the ping


async def test_a_hostile_nickname_is_escaped_everywhere_it_is_shown(gc):
    gc.add_member("mallory", nick=HOSTILE)
    await gc.sb.settle()
    balance = await gc.slash("alice", "gems balance", member=gc["mallory"])
    _assert_escaped(_rendered(balance.message))
    profile = await gc.slash("alice", "trades profile", member=gc["mallory"])
    _assert_escaped(_rendered(profile.message))
    await seed(gc, "alice", 100)
    gc.clock.advance(seconds=31)
    await gc.slash("mallory", "trades offer", member=gc["alice"], price=10, description="a ring")
    dm = gc.sb.dms(gc["alice"])[-1]
    _assert_escaped(_rendered(dm))
    for message in (balance.message, profile.message, dm):
        assert message.allowed_mentions in (None, {"parse": []}) or message.allowed_mentions == {
            "parse": [], "replied_user": False}
