"""/pay (members: packs, seller onboarding) and /pay-admin (admins: packs, status, history,
manual payouts). Thin: parse -> call the payments service -> render."""

from __future__ import annotations

import io
import logging

import aiohttp
import discord
from discord import app_commands

from cogs._shared.feature_cog import FeatureCog, admin_group, member_group, service_checked
from cogs._shared.interaction import (
    NO_PINGS,
    actor_of,
    guild_id_of,
    reply,
    safe_text,
    services_of,
)
from cogs._shared.notify import post_to_moderators, resolve_channel, send_dm
from cogs._shared.outlets import find_outlet
from cogs._shared.ui import RoutedView
from cogs.payments._views import BuyPackButton, PayUsdButton
from economy.core.clock import from_ms
from economy.core.settings import MAX_AMOUNT
from economy.marketplace.models import format_cents
from economy.payments.models import PaymentOutcome

log = logging.getLogger(__name__)
COLOUR = discord.Colour.from_rgb(99, 91, 255)
PROBE_SECONDS = 5


class UsdCog(FeatureCog):
    """Member commands for card payments, plus the announcements of payment events."""

    usd = member_group("pay", "Pay by card (Stripe): GEMS packs, selling for money")

    def __init__(self, bot) -> None:
        super().__init__(bot)
        bot.add_dynamic_items(PayUsdButton, BuyPackButton)

    async def cog_unload(self) -> None:
        """Close the Stripe HTTP session with the bot."""
        gateway = self.services.payments.stripe.gateway
        close = getattr(gateway, "close", None)
        if close is not None:
            await close()

    @usd.command(name="packs", description="GEMS packs you can buy by card")
    async def packs(self, interaction: discord.Interaction):
        guild_id = guild_id_of(interaction)
        settings = await self.services.settings.get(guild_id)
        packs = await self.services.payments.packs.on_sale(guild_id) if settings.payments_packs else []
        if not packs:
            await reply(interaction, "No GEMS packs are on sale in this server.", ephemeral=True)
            return
        view = RoutedView()
        lines = []
        for pack in packs[:25]:
            price = format_cents(pack["cents"], pack["currency"])
            lines.append(f"**#{pack['pack_id']}** {settings.money(pack['gems'])} for {price}")
            view.add_item(BuyPackButton(pack["pack_id"], pack["cents"],
                                        f"{pack['gems']:,} for {price}"))
        embed = discord.Embed(title="GEMS packs", description="\n".join(lines), colour=COLOUR)
        await reply(interaction, embed=embed, view=view, ephemeral=True)

    @usd.command(name="connect", description="Connect your payout account to sell for USD")
    async def connect(self, interaction: discord.Interaction):
        await interaction.response.defer(ephemeral=True, thinking=True)
        url, ready = await self.services.payments.payouts.connect(guild_id_of(interaction),
                                                          interaction.user.id)
        text = ("✅ Your payout account is ready; card sales are paid out to it. Use the link to "
                "review it." if ready else
                "Finish Stripe's onboarding form to receive card payouts. The link is yours "
                "only and works once.")
        view = discord.ui.View(timeout=None)
        view.add_item(discord.ui.Button(label="Open Stripe onboarding", url=url))
        await interaction.followup.send(text, view=view, ephemeral=True, allowed_mentions=NO_PINGS)

    # --- announcements (webhook and sweep) ---------------------------------------------------
    async def sweep(self) -> None:
        """The payments sweep, then what it did announced."""
        for outcome in await self.services.payments.settlement.sweep():
            await self.announce(outcome)

    async def announce(self, outcome: PaymentOutcome) -> None:
        """Tell members and moderators what a payment event did (failures are only logged)."""
        try:
            await self._announce(outcome)
        except Exception:
            log.exception("announcing payment outcome %s failed", outcome.result)

    async def _announce(self, outcome: PaymentOutcome) -> None:
        guild_id = outcome.guild_id
        if outcome.result == "trade_paid" and outcome.trade is not None:
            rooms = find_outlet(self.bot, "trades")  # TradeRooms, when trades is loaded
            fallback = await resolve_channel(self.bot, outcome.channel_id)
            if rooms is not None and fallback is not None:
                await rooms.open(outcome.trade, fallback=fallback)
        elif outcome.result == "pack_minted" and guild_id and outcome.buyer_id:
            settings = await self.services.settings.get(guild_id)
            await send_dm(self.bot, guild_id, outcome.buyer_id,
                          f"💳 Payment received: {settings.money(outcome.gems or 0)} added to "
                          "your balance. Thank you!")
        elif outcome.result == "mismatch_refunded" and guild_id and outcome.buyer_id:
            await send_dm(self.bot, guild_id, outcome.buyer_id,
                          "💳 Your card payment did not match the price shown, so nothing was "
                          "applied and it is refunded in full.")
        elif outcome.result == "released" and guild_id and outcome.buyer_id:
            await send_dm(self.bot, guild_id, outcome.buyer_id,
                          "⌛ Your card payment link expired, so the listing was released. "
                          "Nothing was charged.")
        if outcome.notice and guild_id:
            await post_to_moderators(self.bot, guild_id, outcome.notice)


async def probe(url: str) -> str:
    """Whether the webhook endpoint answers at its public address (as seen from the bot)."""
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=PROBE_SECONDS)) \
                as http, http.get(url, allow_redirects=False) as resp:
            ok = resp.status == 200
            return "✅ reachable" if ok else f"❌ answered HTTP {resp.status}"
    except (aiohttp.ClientError, TimeoutError) as error:
        return f"❌ not reachable ({type(error).__name__})"


class PaymentsAdminCog(FeatureCog):
    """Admin commands for card payments (hidden from members by default_permissions; the
    payments service checks `admin`)."""

    payments = admin_group("pay-admin", "Card payments (admins)")
    pack = app_commands.Group(name="pack", description="GEMS packs sold by card",
                              parent=payments)

    @pack.command(name="add", description="Sell a GEMS pack by card, e.g. 1000 GEMS for 4.99")
    @service_checked("admin")
    @app_commands.describe(gems="How many GEMS the pack mints", price="Price in the server's card currency, like 4.99 (or 500 for JPY)")
    async def pack_add(self, interaction: discord.Interaction,
                       gems: app_commands.Range[int, 1, MAX_AMOUNT],
                       price: app_commands.Range[str, 1, 20]):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        pack = await services.payments.packs.add(guild_id, await actor_of(interaction), gems, price)
        settings = await services.settings.get(guild_id)
        extra = "" if settings.payments_packs else \
            " Packs are not on sale until `payments_packs` is on (`/settings set`)."
        await reply(interaction, f"Pack #{pack['pack_id']}: {settings.money(gems)} for "
                    f"{format_cents(pack['cents'], pack['currency'])}.{extra}", ephemeral=True)

    @pack.command(name="remove", description="Stop selling a GEMS pack")
    @service_checked("admin")
    @app_commands.describe(pack_id="The pack's number (from /pay packs)")
    async def pack_remove(self, interaction: discord.Interaction,
                          pack_id: app_commands.Range[int, 1]):
        await services_of(interaction).payments.packs.remove(
            guild_id_of(interaction), await actor_of(interaction), pack_id)
        await reply(interaction, f"Pack #{pack_id} is no longer on sale.", ephemeral=True)

    @payments.command(name="status", description="Stripe setup, webhook, last event, pending payouts")
    @service_checked("admin")
    async def status(self, interaction: discord.Interaction):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        st = await services.payments.reports.status(guild_id, await actor_of(interaction))
        await interaction.response.defer(ephemeral=True, thinking=True)
        reachable = await probe(st["webhook_url"])
        embed = discord.Embed(title="Card payments", colour=COLOUR)
        embed.add_field(name="Stripe keys", value=(
            ("✅ configured" + (" (test mode)" if st["test_mode"] else " (live)"))
            if st["configured"] else
            "❌ not configured: the operator sets STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET"),
            inline=False)
        embed.add_field(name="This server", value=(
            f"USD listings by card: {'on' if st['enabled'] else 'off'} · packs: "
            f"{'on' if st['packs'] else 'off'} · currency {st['currency'].upper()} · fee "
            f"{st['fee_bps'] / 100:g}% · payouts: {st['payout_mode']}"), inline=False)
        last = st["last_event"]
        embed.add_field(name="Webhook", value=(
            f"{st['webhook_url']} — {reachable}\nLast event: "
            + (f"`{last['type']}` {discord.utils.format_dt(from_ms(last['received_ms']), 'R')}"
               if last else "none received yet (is the endpoint registered in Stripe?)")),
            inline=False)
        due = st["manual_due"]
        embed.add_field(name="Pending", value=(
            f"{st['open_checkouts']} open checkouts · {st['pending_payouts']} Stripe payouts "
            f"to retry · {len(due)} manual payouts due"
            + "".join(f"\n• {p['payout_id']}: {format_cents(p['amount'], p['currency'])} to "
                      f"<@{p['user_id']}>" for p in due[:10])
            + "".join(f"\n⚠️ {p['payout_id']}: {p['kind']} of "
                      f"{format_cents(p['amount'], p['currency'])} failed for a day; check Stripe"
                      for p in st["stuck_payouts"][:5])), inline=False)
        await reply(interaction, embed=embed, ephemeral=True)

    @payments.command(name="history", description="Card payments and payouts (CSV attached)")
    @service_checked("admin")
    async def history(self, interaction: discord.Interaction):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        actor = await actor_of(interaction)
        rows = await services.payments.reports.history(guild_id, actor)
        text = await services.payments.reports.history_csv(guild_id, actor)
        lines = [f"{r['what']} · {r['kind']} · {format_cents(r['amount'], r['currency'])} · "
                 f"{r['status']}" + (f" · <@{r['member']}>" if r["member"] else "")
                 for r in rows[:15]]
        embed = discord.Embed(title="Card payment history",
                              description="\n".join(lines) or "Nothing yet.", colour=COLOUR)
        if len(rows) > 15:
            embed.set_footer(text=f"… and {len(rows) - 15} more in the CSV")
        file = discord.File(io.BytesIO(text.encode()), filename="payments.csv")
        await interaction.response.send_message(embed=embed, file=file, ephemeral=True,
                                                allowed_mentions=NO_PINGS)

    @payments.command(name="paid", description="Record that you paid a seller yourself (manual payouts)")
    @service_checked("admin")
    @app_commands.describe(trade_id="The card trade's number", note="How it was paid (recorded)")
    async def paid(self, interaction: discord.Interaction, trade_id: app_commands.Range[int, 1],
                   note: app_commands.Range[str, 1, 200] | None = None):
        payout = await services_of(interaction).payments.payouts.record_manual_payout(
            guild_id_of(interaction), trade_id, await actor_of(interaction), note=note)
        await reply(interaction, f"Recorded: {format_cents(payout['amount'], payout['currency'])} "
                    f"paid to <@{payout['user_id']}> for trade #{trade_id}"
                    + (f" ({safe_text(note)})" if note else "") + ".", ephemeral=True)
