"""Embeds and button rows for trades (presentation only)."""

from __future__ import annotations

import discord

from economy.core.settings import GuildSettings
from economy.trades.models import HELD_STATUSES, PurchaseQuote, RatingSummary, Trade

COLOUR = discord.Colour.from_rgb(255, 196, 64)
STATUS_LABELS = {
    "offered": "🕊️ Offered — waiting for the buyer to accept",
    "reserved": "🔒 GEMS held — waiting for delivery",
    "delivered": "📦 Delivered — waiting for the buyer to confirm",
    "completed": "✅ Completed",
    "cancelled": "↩️ Cancelled — buyer refunded",
    "disputed": "⚖️ Disputed — a moderator will decide",
    "resolved": "⚖️ Resolved by a moderator",
    "declined": "✖️ Declined",
    "expired": "⌛ Offer expired",
}


def safe(text: str | None, limit: int = 200) -> str:
    """User text escaped for embeds (no markdown tricks, no mentions)."""
    text = discord.utils.escape_mentions(discord.utils.escape_markdown(text or ""))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def amount_text(trade: Trade, s: GuildSettings, amount: int) -> str:
    """An amount with its unit: `💎 1,250 GEMS` for GEMS trades, `$12.50` for card trades."""
    return trade.money(s, amount)


def trade_embed(trade: Trade, s: GuildSettings) -> discord.Embed:
    """The trade card."""
    embed = discord.Embed(title=f"Trade #{trade.trade_id} · {safe(trade.title, 80)}", colour=COLOUR)
    label = STATUS_LABELS.get(trade.status, trade.status)
    if trade.currency != "gems" and trade.status == "reserved":
        label = "💳 Paid by card, held until delivery — waiting for delivery"
    embed.add_field(name="Status", value=label, inline=False)
    embed.add_field(name="Price", value=trade.money(s))
    embed.add_field(name="Fee (seller pays)",
                    value=f"{trade.money(s, trade.fee)} ({trade.fee_bps / 100:g}%)")
    embed.add_field(name="Buyer · Seller", value=f"<@{trade.buyer_id}> · <@{trade.seller_id}>")
    if trade.status == "reserved" and trade.deliver_by:
        embed.add_field(name="Deliver by", value=discord.utils.format_dt(trade.deliver_by, "f"))
    if trade.status == "delivered" and trade.release_at:
        embed.add_field(name="Auto-release", value=discord.utils.format_dt(trade.release_at, "R"))
    if trade.status == "offered" and trade.offer_expires_at:
        embed.add_field(name="Offer expires", value=discord.utils.format_dt(trade.offer_expires_at, "R"))
    if trade.tracking:
        embed.add_field(name="Tracking", value=safe(trade.tracking), inline=False)
    if trade.dispute:
        embed.add_field(name="Dispute", value=safe(trade.dispute.get("reason"), 500), inline=False)
    if trade.resolution:
        r = trade.resolution
        embed.add_field(
            name="Resolution",
            value=f"**{r['outcome']}** — seller gets "
                  + f"{trade.money(s, r['to_seller'])} (fee {trade.money(s, r['fee'])})"
                  + (f"\n{safe(r.get('note'))}" if r.get("note") else ""),
            inline=False,
        )
    if trade.timeline:
        lines = [
            f"{discord.utils.format_dt(e.at, 'd')} {e.event}"
            + (f" · <@{e.actor_id}>" if e.actor_id else "")
            + (f" · {safe(e.note, 80)}" if e.note else "")
            for e in trade.timeline[-10:]
        ]
        embed.add_field(name="Timeline", value="\n".join(lines), inline=False)
    return embed


def quote_text(quote: PurchaseQuote, s: GuildSettings) -> str:
    """The confirmation shown before a purchase."""
    return (
        f"Buy **{safe(quote.title, 80)}** from <@{quote.seller_id}> for {s.money(quote.price)}?\n"
        f"Seller: {quote.seller_rating.render()}. The seller pays the {s.money(quote.fee)} fee.\n"
        f"Your GEMS are **held by the bot** until you confirm the item arrived (or a moderator "
        f"decides a dispute). Your balance: {s.money(quote.balance)}."
    )


def profile_embed(name: str, summary: RatingSummary, recent: list[tuple[int, str]]) -> discord.Embed:
    """A member's trading reputation."""
    embed = discord.Embed(title=f"{name} as a trader", description=summary.render(), colour=COLOUR)
    if recent:
        embed.add_field(name="Recent reviews", value="\n".join(
            f"{'★' * stars}{'☆' * (5 - stars)} {safe(text, 120)}" for stars, text in recent),
            inline=False)
    return embed


def trade_list_embed(title: str, trades: list[Trade], s: GuildSettings) -> discord.Embed:
    """A short list of trades."""
    embed = discord.Embed(title=title, colour=COLOUR)
    if not trades:
        embed.description = "No trades here."
    else:
        embed.description = "\n".join(
            f"**#{t.trade_id}** {safe(t.title, 50)} — "
            f"{f'{t.price:,} {s.currency_name}' if t.currency == 'gems' else t.money(s)} · "
            f"{t.status} · <@{t.buyer_id}> ← <@{t.seller_id}>"
            for t in trades
        )
    return embed


ACTIONS = (
    ("deliver", "Mark delivered", discord.ButtonStyle.primary, ("reserved",)),
    ("confirm", "Confirm received", discord.ButtonStyle.success, HELD_STATUSES),
    ("cancel", "Cancel (seller)", discord.ButtonStyle.secondary, ("reserved",)),
    ("mutual", "Mutual cancel", discord.ButtonStyle.secondary, HELD_STATUSES),
    ("dispute", "Open dispute", discord.ButtonStyle.danger, HELD_STATUSES),
)
