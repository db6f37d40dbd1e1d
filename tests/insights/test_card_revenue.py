"""Card revenue in the rollups: a GEMS pack paid by card (through the Stripe API double) counts
in its day's `card_revenue`, minted GEMS in `minted`; with payments off nothing is counted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from economy.core.actor import Actor
from tests.payments.conftest import G, double, pay, post_event  # noqa: F401 (fixtures)

pytestmark = pytest.mark.timeout(120)
BUYER = 2


async def test_a_pack_paid_by_card_is_revenue_of_its_day(pay, double, clock):  # noqa: F811
    clock.set(datetime(2026, 3, 1, 9, tzinfo=UTC))
    await pay.settings.set(G, Actor.system(), "payments_packs", "yes")
    pack = await pay.payments.packs.add(G, Actor.system(), 1000, "4.99")
    link = await pay.payments.checkout.for_pack(G, BUYER, pack["pack_id"])
    event = double.complete(link.url.rsplit("/", 1)[1])
    assert (await post_event(pay, event)).result == "pack_minted"
    clock.set(datetime(2026, 3, 2, 1, tzinfo=UTC))
    (day,) = await pay.insights.rollup(G, datetime(2026, 3, 1).date())
    assert day.card_revenue == {"usd": 499} and day.minted == 1000 and day.earned == 0
    await pay.settings.set(G, Actor.system(), "disabled_features", "payments")
    (off,) = await pay.insights.rollup(G, datetime(2026, 3, 1).date())
    assert off.card_revenue == {} and off.minted == 1000
