"""/settings modules disable payments: new checkouts stop; what a member already paid still settles."""

from __future__ import annotations

import pytest

from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.modules import FeatureOff
from tests.payments.conftest import BUYER, SELLER, G, post_event, quote, usd_listing

pytestmark = pytest.mark.timeout(60)


def session_id_of(link) -> str:
    return link.url.rsplit("/", 1)[1]


async def test_payments_off_refuses_checkouts_but_settles_paid_ones(pay, double):
    await pay.settings.set(G, Actor.system(), "payments_packs", "yes")
    pack = await pay.payments.packs.add(G, Actor.system(), 1000, "4.99")
    pack_link = await pay.payments.checkout.for_pack(G, BUYER, pack["pack_id"])
    listing_id = await usd_listing(pay)
    listing_link = await pay.payments.checkout.for_listing(G, BUYER, listing_id,
                                                       **await quote(pay, listing_id))
    other = await usd_listing(pay, title="Ruby ring")
    assert await pay.modules.switch(G, Actor.system(), "payments", on=False)
    with pytest.raises(FeatureOff, match="Card payments"):
        await pay.payments.checkout.for_pack(G, BUYER, pack["pack_id"])
    with pytest.raises(FeatureOff):
        await pay.payments.checkout.for_listing(G, BUYER, other, **await quote(pay, other))
    # Stripe's webhooks for checkouts opened before the switch still settle, once.
    minted = await post_event(pay, double.complete(session_id_of(pack_link)))
    assert minted.result == "pack_minted" and await pay.ledger.balance(G, BUYER) == 1000
    paid = await post_event(pay, double.complete(session_id_of(listing_link)))
    assert paid.result == "trade_paid"
    await pay.trades.mark_delivered(G, paid.trade.trade_id, SELLER)
    done = await pay.trades.confirm(G, paid.trade.trade_id, BUYER)
    assert done.trade.status == "completed"
    assert await pay.modules.switch(G, Actor.system(), "payments", on=True)
    assert (await pay.payments.checkout.for_pack(G, BUYER, pack["pack_id"])).url
    report = await audit(pay.db)
    assert report.ok, report.render()
