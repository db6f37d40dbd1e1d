"""Card payments: a USD listing paid through Stripe Checkout, escrow, a Connect transfer; a GEMS
pack minted once however often its webhook arrives.

Stripe is played by the local API double (devtools/stripe_double.py): the bot's real stripe library
talks to it, and its webhooks are signed like Stripe's and posted to the bot's own web server.
"""

from __future__ import annotations

from economy.payments.stripe_gateway import StripeGateway

ORDER = 90
TITLE = "Card payments (Stripe)"

SECRET_KEY = "sk_test_gemsdemo00000000000"
WEBHOOK_SECRET = "whsec_gemsdemo0000000000"


def _thread(gc, trade_id):
    return next(c for c in gc.sb.world.channels.values()
                if c.is_thread and c.name.startswith(f"Trade #{trade_id} "))


def _card(gc, thread):
    return next(m for m in gc.sb.channel_messages(thread) if m.embeds and "Trade #" in m.embeds[0].title)


def _link(result) -> str:
    return next(b.url for b in result.last.components if b.url)


async def play(t, gc) -> None:
    """Connect a seller, pay a listing by card, confirm, buy a pack, refuse a forged webhook."""
    try:  # the Stripe double is a dev tool (devtools/), which the production image does not ship
        from devtools.stripe_double import StripeDouble
    except ModuleNotFoundError as missing:
        if missing.name != "devtools" and not (missing.name or "").startswith("devtools."):
            raise
        t.note("devtools/ is not installed: the payments scene needs the local Stripe double; "
               "skipped.")
        return
    async with StripeDouble(SECRET_KEY,
                            clock=lambda: gc.services.clock.now().timestamp()) as stripe:
        # What STRIPE_SECRET_KEY / STRIPE_WEBHOOK_SECRET / STRIPE_API_BASE do at start-up.
        gateway = StripeGateway(SECRET_KEY, WEBHOOK_SECRET, api_base=stripe.url)
        link = gc.services.payments.stripe  # the bot's Stripe connection
        previous = link.gateway
        link.configure(gateway, lambda: gc.bot.web.public_url)
        try:
            await _scene(t, gc, stripe)
        finally:
            link.configure(previous, lambda: gc.bot.web.public_url)
            await gateway.close()


async def _scene(t, gc, stripe) -> None:
    webhook_url = f"{gc.bot.web.public_url}/stripe/webhook"
    for key, value in (("marketplace_usd", "on"), ("marketplace_approval", "off"),
                       ("payments_usd", "on"), ("payments_payout_mode", "connect"),
                       ("payments_packs", "on")):
        await t.slash("admin", "settings set", key=key, value=value)
    pasted = await t.slash("admin", "settings set", key="currency_name", value="sk_live_51Hxyzabcdefg")
    t.check("environment" in pasted.content, "a pasted Stripe key is refused, never echoed")

    connect = await t.slash("alice", "pay connect")
    account = _link(connect).rsplit("/", 1)[1]
    stripe.onboard(account)
    t.note(f"alice finishes Stripe's onboarding form; her payout account is {account}.")

    opened = await t.slash("alice", "list-item", category="necklaces", condition="like_new",
                           price_gems=2400, price_usd="24.00")
    listed = await gc.sb.submit_modal(gc["alice"], opened, {
        "Title": "Victorian garnet brooch", "Description": "Bohemian garnets, pinned on velvet.",
        "Specifications (one `key: value` per line)": "metal: gold-plated silver"})
    await t.click("alice", listed, "Publish")
    listing = max(d["listing_id"] for d in await gc.db["listings"].find(
        {"guild_id": gc.guild.id}, {"listing_id": 1}).to_list())
    detail = await t.slash("carol", "market view", listing=listing)
    t.check({"Buy", "Pay $24.00"} <= {b.label for b in detail.buttons},
            "a listing with both prices: the buyer chooses GEMS or card")
    pay = await t.click("carol", detail, "Pay $24.00")
    session_id = _link(pay).rsplit("/", 1)[1]
    t.note(f"carol gets a private Checkout link ({session_id}); the listing is reserved for 31 "
           "minutes. She pays on Stripe's page; Stripe posts a signed webhook to the bot.")
    status, body = await stripe.deliver(webhook_url, stripe.complete(session_id), WEBHOOK_SECRET)
    t.check(status == 200 and "trade_paid" in body, "the webhook is verified and opens the trade")
    trade = (await gc.services.trades.for_member(gc.guild.id, gc["carol"].id, "active"))[0]
    thread = _thread(gc, trade.trade_id)
    t.message(_card(gc, thread))
    t.note("Someone replays that webhook signed with another secret: the bot answers HTTP 400 "
           "and logs one line ('stripe webhook rejected: signature verification failed').")
    forged = await stripe.deliver(webhook_url, stripe.complete(session_id), "whsec_forgedsecret0000")
    t.check(forged[0] == 400, "a webhook signed with another secret is refused (HTTP 400)")
    opened = await gc.click("alice", _card(gc, thread), "Mark delivered")
    await gc.sb.submit_modal(gc["alice"], opened, {"Tracking number or note (optional)": "Royal Mail 8812"})
    await t.click("carol", _card(gc, thread), "Confirm received")
    t.check([tr["amount"] for tr in stripe.transfers] == [2400 - 120],
            "confirming sends the seller $22.80 (price minus the 5% fee) by Connect transfer")

    await t.slash("admin", "pay-admin pack add", gems=1000, price="4.99")
    packs = await t.slash("dave", "pay packs")
    before = await gc.services.ledger.balance(gc.guild.id, gc["dave"].id)
    bought = await t.click("dave", packs, packs.buttons[0].label)
    completed = stripe.complete(_link(bought).rsplit("/", 1)[1])
    for _ in range(3):  # Stripe retries deliveries; the pack is minted once
        await stripe.deliver(webhook_url, completed, WEBHOOK_SECRET)
    after = await gc.services.ledger.balance(gc.guild.id, gc["dave"].id)
    t.check(after - before == 1000, "three deliveries of one payment mint 1,000 GEMS once")
    await t.slash("admin", "pay-admin status")
    await t.slash("admin", "pay-admin history")
    t.note("Connect paid alice automatically; `/pay-admin paid` is for servers that pay sellers "
           "themselves (payout mode manual), so here it is refused.")
    await t.slash("admin", "pay-admin paid", trade_id=trade.trade_id, note="bank transfer")
    await t.slash("admin", "pay-admin pack remove", pack_id=1)
