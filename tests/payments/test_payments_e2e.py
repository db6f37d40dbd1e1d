"""Card payments end to end: the real bot in the sandbox, the real stripe library against the API
double, webhooks signed like Stripe posted to the bot's own web server."""

from __future__ import annotations

import aiohttp
import pytest

from bot.demo.community import GemsCommunity
from bot.settings import Settings
from economy.core.actor import Actor
from economy.core.audit import audit
from economy.marketplace.repo import ListingRepo
from tests.e2e_fixtures import db_state
from tests.payments.conftest import SECRET_KEY, WEBHOOK_SECRET

pytestmark = pytest.mark.timeout(60)


def stripe_settings(double=None) -> Settings:
    keys = {"stripe_secret_key": SECRET_KEY, "stripe_webhook_secret": WEBHOOK_SECRET,
            "stripe_api_base": double.url} if double else {}
    return Settings(_env_file=None, discord_token=None, attachment_hosts=["127.0.0.1"],
                    web_port=0, **keys)


@pytest.fixture
async def pgc(store, clock, double):
    """A connected community whose bot has Stripe keys and talks to the double."""
    async with GemsCommunity.open(store.db, clock=clock, strict_deadline=False, settings=stripe_settings(double)) as gc:
        gc.double = double
        yield gc
    report = await audit(gc.services.db)
    assert report.ok, report.render()


async def usd_listing(gc, who="alice", usd="12.50", gems=None):
    options = {"category": "rings", "condition": "new", "price_usd": usd}
    if gems is not None:
        options["price_gems"] = gems
    opened = await gc.slash(who, "list-item", **options)
    assert opened.modal is not None, opened.content
    preview = await gc.sb.submit_modal(gc[who], opened, {
        "Title": "Opal pendant", "Description": "A vintage opal pendant.",
        "Specifications (one `key: value` per line)": "metal: silver"})
    await gc.click(who, preview, "Publish")


async def webhook(gc, event, **options):
    url = f"{gc.bot.web.public_url}/stripe/webhook"
    return await gc.double.deliver(url, event, WEBHOOK_SECRET, **options)


def trade_thread(gc, trade_id):
    return next(c for c in gc.sb.world.channels.values()
                if c.is_thread and c.name.startswith(f"Trade #{trade_id} "))


def card_in(gc, thread):
    return next(m for m in gc.sb.channel_messages(thread)
                if m.embeds and "Trade #" in m.embeds[0].title)


async def pay_and_open_room(gc):
    """bob pays listing #1 by card; returns (trade id, thread, session id)."""
    detail = await gc.slash("bob", "market view", listing=1)
    pay = (await gc.click("bob", detail, "Pay $12.50")).last
    assert pay.ephemeral and "Pay here" in pay.content
    [link] = [b for b in pay.components if b.url]
    session_id = link.url.rsplit("/", 1)[1]
    status, body = await webhook(gc, gc.double.complete(session_id))
    assert status == 200 and '"trade_paid"' in body, body
    trade = (await gc.services.trades.for_member(gc.guild.id, gc["bob"].id))[0]
    return trade.trade_id, trade_thread(gc, trade.trade_id), session_id


async def setup_usd(gc, mode="connect"):
    for key, value in (("marketplace_usd", "yes"), ("payments_usd", "yes"),
                       ("payments_payout_mode", mode)):
        r = await gc.slash("admin", "settings set", key=key, value=value)
        assert r.ephemeral, r.content


async def test_usd_listing_paid_by_card_confirmed_and_transferred(pgc):
    gc = pgc
    await setup_usd(gc)
    connect = await gc.slash("alice", "pay connect")
    [onboard] = [b for b in connect.last.components if b.url]
    account = onboard.url.rsplit("/", 1)[1]
    gc.double.onboard(account)
    await usd_listing(gc, gems=900)  # both prices: the buyer chooses
    detail = await gc.slash("bob", "market view", listing=1)
    assert {"Buy", "Pay $12.50"} <= {b.label for b in detail.buttons}
    trade_id, thread, session_id = await pay_and_open_room(gc)
    card = card_in(gc, thread)
    assert "$12.50" in card.text and "Paid by card" in card.text
    assert any("$12.50 is now held" in m.content for m in gc.sb.dms(gc["alice"]))
    opened = await gc.click("alice", card, "Mark delivered")
    await gc.sb.submit_modal(gc["alice"], opened, {"Tracking number or note (optional)": "DHL 1"})
    await gc.click("bob", card_in(gc, thread), "Confirm received")
    assert "Completed" in card_in(gc, thread).text
    # The seller is told what they get in the trade's currency (dollars, not GEMS).
    assert any("The seller received $11.88." in m.content for m in gc.sb.dms(gc["alice"]))
    [transfer] = gc.double.transfers
    assert (transfer["amount"], transfer["destination"]) == (1250 - 62, account)
    # A late replay of the payment changes nothing; GEMS never moved.
    replay = await webhook(gc, gc.double.event("checkout.session.completed",
                                               gc.double.sessions[session_id]))
    assert replay[0] == 200 and '"duplicate"' in replay[1]
    assert (await gc.services.trades.get(gc.guild.id, trade_id, Actor(gc["bob"].id))).status == "completed"
    assert len(gc.double.transfers) == 1
    assert await gc.db["ledger"].count_documents({"guild_id": gc.guild.id}) == 0
    status = await gc.slash("admin", "pay-admin status")
    assert "checkout.session.completed" in status.text and "configured" in status.text
    assert "✅ reachable" in status.text
    history = await gc.slash("admin", "pay-admin history")
    assert "payments.csv" in history.files and b"transfer" in history.files["payments.csv"]


async def test_dispute_refund_is_called_once(pgc):
    gc = pgc
    await setup_usd(gc, mode="manual")
    await usd_listing(gc)
    queue = gc.sb.create_channel(gc.guild, "mod-queue")
    await gc.sb.settle()
    await gc.slash("admin", "settings set", key="dispute_channel_id", value=f"<#{queue.id}>")
    trade_id, _, session_id = await pay_and_open_room(gc)
    status, _ = await webhook(gc, gc.double.charge_event("charge.dispute.created", session_id))
    assert status == 200
    assert any(f"card dispute was opened for $12.50 (reason: fraudulent) on trade #{trade_id}"
               in m.content for m in gc.sb.channel_messages(queue))
    again = await webhook(gc, gc.double.event("checkout.session.completed",
                                              gc.double.sessions[session_id]))
    assert again[0] == 200 and '"duplicate"' in again[1]
    r = await gc.slash("bob", "trades dispute", trade_id=trade_id,
                       reason="The pendant never arrived")
    assert r.ephemeral, r.content
    resolved = await gc.slash("mod", "trades-admin dispute resolve", trade_id=trade_id, outcome="refund")
    assert resolved.ephemeral and "buyer gets $12.50 back" in resolved.content
    assert any("the buyer got $12.50 back" in m.content for m in gc.sb.dms(gc["bob"]))
    twice = await gc.slash("mod", "trades-admin dispute resolve", trade_id=trade_id, outcome="refund")
    assert "no open dispute" in twice.content or "already" in twice.content
    [refund] = gc.double.refunds
    assert refund["amount"] == 1250
    calls = gc.double.calls_to("POST", "/v1/refunds")
    assert {c.idempotency_key for c in calls} == {f"gems-{gc.guild.id}-trade:{trade_id}:refund"}
    assert (await ListingRepo(gc.services.db).get(gc.guild.id, 1))["status"] == "active"


async def test_bad_webhooks_are_rejected_over_http(pgc):
    gc = pgc
    await setup_usd(gc, mode="manual")
    await usd_listing(gc)
    detail = await gc.slash("bob", "market view", listing=1)
    pay = (await gc.click("bob", detail, "Pay $12.50")).last
    session_id = next(b.url for b in pay.components if b.url).rsplit("/", 1)[1]
    event = gc.double.complete(session_id)
    url = f"{gc.bot.web.public_url}/stripe/webhook"
    assert (await gc.double.deliver(url, event, "whsec_notthesecret000000"))[0] == 400
    assert (await webhook(gc, event, timestamp=1_600_000_000))[0] == 400
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=b"not json at all") as resp:
            assert resp.status == 400
        async with http.get(url) as resp:
            assert resp.status == 200
    assert (await webhook(gc, "not json at all"))[0] == 400
    assert await gc.db["trades"].count_documents({}) == 0
    # The genuine event still works afterwards.
    assert (await webhook(gc, event))[0] == 200
    assert await gc.db["trades"].count_documents({}) == 1


async def test_unconfigured_bot_and_pasted_keys_are_refused(store, clock):
    async with GemsCommunity.open(store.db, clock=clock, strict_deadline=False, settings=stripe_settings()) as gc:
        await setup_usd(gc, mode="manual")
        await usd_listing(gc)
        before = (await db_state(gc), await gc.db["listings"].find(
            {}, {"_id": 0, "status": 1, "version": 1}).to_list())
        detail = await gc.slash("bob", "market view", listing=1)
        refused = (await gc.click("bob", detail, "Pay $12.50")).last
        assert refused.ephemeral and "not set up" in refused.content
        status = await gc.slash("admin", "pay-admin status")
        assert "not configured" in status.text
        pasted = await gc.slash("admin", "settings set", key="currency_name",
                                value="sk_live_abcdefghijklmnop")
        assert pasted.ephemeral and "belong in the bot's environment" in pasted.content
        assert "sk_live_abcdefghijklmnop" not in pasted.content
        tree = gc.bot.tree
        payloads = {c.name: c.to_dict(tree) for c in tree.get_commands()}
        assert int(payloads["pay-admin"]["default_member_permissions"]) == 1 << 5
        assert payloads["pay"]["default_member_permissions"] is None
        member = await gc.slash("bob", "pay-admin status")
        assert member.ephemeral and "Only server admins" in member.content
        after = (await db_state(gc), await gc.db["listings"].find(
            {}, {"_id": 0, "status": 1, "version": 1}).to_list())
        assert after == before


async def test_pack_bought_with_the_button_is_minted_once(pgc):
    gc = pgc
    await gc.slash("admin", "settings set", key="payments_usd", value="yes")
    refused = await gc.slash("bob", "pay-admin pack add", gems=1000, price="4.99")
    assert refused.ephemeral and "Only server admins" in refused.content
    low = await gc.slash("admin", "pay-admin pack add", gems=1000, price="0.20")
    assert low.ephemeral and "at least $0.50" in low.content
    added = await gc.slash("admin", "pay-admin pack add", gems=1000, price="4.99")
    assert "Pack #1" in added.content and "payments_packs" in added.content
    await gc.slash("admin", "settings set", key="payments_packs", value="yes")
    packs = await gc.slash("bob", "pay packs")
    assert packs.ephemeral and "$4.99" in packs.text
    bought = (await gc.click("bob", packs, packs.buttons[0].label)).last
    session_id = next(b.url for b in bought.components if b.url).rsplit("/", 1)[1]
    event = gc.double.complete(session_id)
    results = [await webhook(gc, event) for _ in range(3)]
    assert [r[0] for r in results] == [200, 200, 200]
    assert await gc.services.ledger.balance(gc.guild.id, gc["bob"].id) == 1000
    assert any("1,000 GEMS added" in m.content for m in gc.sb.dms(gc["bob"]))


async def test_reservation_released_by_the_sweep_job_when_no_webhook_comes(pgc):
    gc = pgc
    await setup_usd(gc, mode="manual")
    await usd_listing(gc)
    detail = await gc.slash("bob", "market view", listing=1)
    seen_by_carol = await gc.slash("carol", "market view", listing=1)
    await gc.click("bob", detail, "Pay $12.50")
    assert (await ListingRepo(gc.services.db).get(gc.guild.id, 1))["status"] == "reserved"
    taken = (await gc.click("carol", seen_by_carol, "Pay $12.50")).last
    assert taken.ephemeral and "no longer available" in taken.content
    await gc.advance(minutes=40)  # runs the scheduled jobs, the payments sweep among them
    assert (await ListingRepo(gc.services.db).get(gc.guild.id, 1))["status"] == "active"
    assert any("link expired" in m.content for m in gc.sb.dms(gc["bob"]))


async def test_stale_pay_button_after_a_price_change_reserves_nothing(pgc):
    gc = pgc
    await setup_usd(gc, mode="manual")
    await usd_listing(gc)
    detail = await gc.slash("bob", "market view", listing=1)
    edited = await gc.slash("alice", "market edit", listing=1, price_usd="15.00")
    assert edited.ephemeral and "Updated" in edited.content, edited.content
    before = await gc.db["listings"].find({}, {"_id": 0, "status": 1, "version": 1}).to_list()
    stale = (await gc.click("bob", detail, "Pay $12.50")).last
    assert stale.ephemeral and "changed" in stale.content and "Nothing was charged" in stale.content
    assert await gc.db["listings"].find({}, {"_id": 0, "status": 1, "version": 1}).to_list() == before
    assert await gc.db["pay_checkouts"].count_documents({}) == 0
    assert gc.double.calls_to("POST", "/v1/checkout/sessions") == []
    fresh = await gc.slash("bob", "market view", listing=1)
    paid = (await gc.click("bob", fresh, "Pay $15.00")).last
    assert "$15.00" in paid.content


async def test_auto_release_pays_the_seller_and_speaks_of_the_payment(pgc):
    gc = pgc
    await setup_usd(gc, mode="manual")
    await usd_listing(gc)
    trade_id, thread, _ = await pay_and_open_room(gc)
    opened = await gc.click("alice", card_in(gc, thread), "Mark delivered")
    await gc.sb.submit_modal(gc["alice"], opened, {})
    await gc.advance(days=4)  # past escrow_auto_release_days: the escrow sweep releases
    assert any("held payment was released" in m.content for m in gc.sb.dms(gc["alice"]))
    status = await gc.services.payments.reports.status(gc.guild.id, Actor.system())
    [due] = status["manual_due"]
    assert (due["amount"], due["payout_id"]) == (1250 - 62, f"trade:{trade_id}:payout")
    paid = await gc.slash("admin", "pay-admin paid", trade_id=trade_id, note="bank transfer")
    assert paid.ephemeral and "$11.88 paid to" in paid.content
    again = await gc.slash("admin", "pay-admin paid", trade_id=trade_id)
    assert "no manual payout due" in again.content


async def test_yen_pack_below_stripes_minimum_is_refused_and_a_valid_one_shown_in_yen(pgc):
    gc = pgc
    await gc.slash("admin", "settings set", key="payments_currency", value="jpy")
    await gc.slash("admin", "settings set", key="payments_packs", value="yes")
    for price, why in (("49", "at least 50 JPY"), ("120.50", "no fractions")):
        before = await gc.db["pay_packs"].count_documents({})
        low = await gc.slash("admin", "pay-admin pack add", gems=1000, price=price)
        assert low.ephemeral and why in low.content, low.content
        assert await gc.db["pay_packs"].count_documents({}) == before == 0
    added = await gc.slash("admin", "pay-admin pack add", gems=1000, price="500")
    assert added.ephemeral and "500 JPY" in added.content and "500.00" not in added.content
    await gc.slash("admin", "settings set", key="payments_usd", value="yes")
    packs = await gc.slash("bob", "pay packs")
    assert "500 JPY" in packs.text
    bought = (await gc.click("bob", packs, packs.buttons[0].label)).last
    assert "500 JPY" in bought.content
    [call] = gc.double.calls_to("POST", "/v1/checkout/sessions")
    assert call.params["line_items"][0]["price_data"]["unit_amount"] == "500"


async def test_mismatched_payment_is_refunded_and_moderators_told_once(pgc):
    gc = pgc
    await setup_usd(gc, mode="manual")
    await usd_listing(gc)
    queue = gc.sb.create_channel(gc.guild, "mod-queue")
    await gc.sb.settle()
    await gc.slash("admin", "settings set", key="dispute_channel_id", value=f"<#{queue.id}>")
    detail = await gc.slash("bob", "market view", listing=1)
    pay = (await gc.click("bob", detail, "Pay $12.50")).last
    session_id = next(b.url for b in pay.components if b.url).rsplit("/", 1)[1]
    event = gc.double.complete(session_id, amount=1000, currency="eur")
    for _ in range(2):
        status, _ = await webhook(gc, event)
        assert status == 200
    notices = [m.content for m in gc.sb.channel_messages(queue) if "did not match" in m.content]
    assert len(notices) == 1 and "got 10.00 EUR" in notices[0], notices
    assert any("refunded in full" in m.content for m in gc.sb.dms(gc["bob"]))
    assert [(r["amount"], r["currency"]) for r in gc.double.refunds] == [(1000, "eur")]
    assert (await ListingRepo(gc.services.db).get(gc.guild.id, 1))["status"] == "active"
    assert await gc.db["trades"].count_documents({}) == 0
