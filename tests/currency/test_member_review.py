"""The staff check of the member review is the service's own (roles from GEMS settings)."""

from __future__ import annotations

import pytest

from economy.core.actor import Actor
from economy.core.errors import NotPermitted
from economy.currency.review import Viewer

pytestmark = pytest.mark.timeout(60)

G = 63


async def test_only_staff_by_permission_or_configured_role(services):
    review = services.member_review
    await services.ledger.grant(G, Actor.system(), 7, 50, reason="seed", key="seed:7")
    with pytest.raises(NotPermitted):
        await review.review(G, Viewer(1, role_ids=frozenset({555})), 7)
    await services.settings.set(G, Actor.system(), "moderator_role_id", "555")
    seen = await review.review(G, Viewer(1, role_ids=frozenset({555})), 7)
    assert seen.account.balance == 50 and seen.entry_count == 1
    await services.settings.set(G, Actor.system(), "admin_role_id", "777")
    assert (await review.review(G, Viewer(2, role_ids=frozenset({777})), 7)).user_id == 7
    assert (await review.review(G, Viewer(3, manage_messages=True), 7)).user_id == 7
    with pytest.raises(NotPermitted):
        await review.review(G, Viewer(4, role_ids=frozenset({999})), 7)
