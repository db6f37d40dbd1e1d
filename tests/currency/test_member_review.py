"""The staff check of the member review is the service's own: it decides from the Actor (the
edge computes the flags once from Discord's permissions and the configured roles; the
role-based path through the command is in test_member_review_commands.py)."""

from __future__ import annotations

import pytest

from economy.core.actor import Actor
from economy.core.errors import NotPermitted

pytestmark = pytest.mark.timeout(60)

G = 63


async def test_only_moderators_and_admins_of_this_guild(services):
    review = services.member_review
    await services.ledger.grant(G, Actor.system(), 7, 50, reason="seed", key="seed:7")
    for outsider in (Actor(1, role_ids=frozenset({555}), guild_id=G),
                     Actor(4, is_admin=True, is_moderator=True, guild_id=G + 1)):
        with pytest.raises(NotPermitted, match="Only moderators and admins"):
            await review.review(G, outsider, 7)
    seen = await review.review(G, Actor(1, is_moderator=True, guild_id=G), 7)
    assert seen.account.balance == 50 and seen.entry_count == 1
    assert (await review.review(G, Actor(2, is_admin=True, guild_id=G), 7)).user_id == 7
