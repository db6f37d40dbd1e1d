"""Embeds for the currency commands (presentation only)."""

from __future__ import annotations

from collections.abc import Callable

import discord

from cogs._shared.interaction import safe_text
from economy.boosts.service import format_factor
from economy.core.models import Account, DailyClaim, LedgerEntry, Page
from economy.core.settings import GuildSettings
from economy.currency.gifts import GiftDigest

GEM_COLOUR = discord.Colour.from_rgb(64, 196, 255)

KIND_LABELS = {
    "transfer": "Transfer", "grant": "Admin grant", "take": "Admin removal", "daily": "Daily",
    "activity": "Chat activity", "earn": "Earned", "reward": "Reward",
}


def balance_embed(name: str, account: Account, rank: int | None, s: GuildSettings) -> discord.Embed:
    """A member's wallet."""
    embed = discord.Embed(title=f"{name}'s wallet", colour=GEM_COLOUR)
    embed.add_field(name="Balance", value=s.money(account.balance), inline=False)
    if account.held:
        embed.add_field(name="Held in escrow", value=s.money(account.held))
    embed.add_field(name="Lifetime earned", value=f"{account.lifetime_earned:,}")
    embed.add_field(name="Rank", value=f"#{rank}" if rank else "—")
    if account.daily_streak:
        embed.add_field(name="Daily streak", value=f"{account.daily_streak} day(s)")
    return embed


def daily_text(mention: str, claim: DailyClaim, s: GuildSettings) -> str:
    """The line after a daily claim: public by default, addressed to the member when the
    server keeps claims private (`daily_public` off)."""
    who = f"{mention} claimed their" if s.daily_public else "You claimed your"
    text = f"{who} daily {s.money(claim.amount)} — streak **{claim.streak}**"
    if claim.streak_kept_by_grace:
        text += " (kept by the one-day grace)"
    boost = claim.movement.entries[0].multiplier_pct
    if boost != 100:
        text += f" · boost ×{boost / 100:g}"
    return text + "."


def leaderboard_embed(page: Page, s: GuildSettings) -> discord.Embed:
    """One page of the richest members."""
    embed = discord.Embed(title=f"{s.currency_emoji} {s.currency_name} leaderboard", colour=GEM_COLOUR)
    if not page.rows:
        embed.description = "Nobody holds any yet. `/gems daily` is a good start!"
    else:
        embed.description = "\n".join(
            f"**#{rank}** <@{user_id}> — {balance:,}" for rank, user_id, balance in page.rows
        )
    embed.set_footer(text=f"Page {page.page}/{page.pages} · {page.total:,} members")
    return embed


def history_embed(page: Page, s: GuildSettings) -> discord.Embed:
    """One page of a member's ledger entries."""
    embed = discord.Embed(title="Your GEMS history", colour=GEM_COLOUR)
    if not page.rows:
        embed.description = "No movements yet."
    else:
        embed.description = "\n".join(_history_line(entry) for entry in page.rows)
    embed.set_footer(text=f"Page {page.page}/{page.pages} · {page.total:,} entries · {s.currency_name}")
    return embed


def _history_line(entry: LedgerEntry) -> str:
    sign = "+" if entry.delta >= 0 else "−"
    label = KIND_LABELS.get(entry.kind, entry.kind.title())
    when = discord.utils.format_dt(entry.at, "d")
    parts = [f"`{sign}{abs(entry.delta):,}` {label}"]
    if entry.counterparty_id:
        parts.append(("to" if entry.delta < 0 else "from") + f" <@{entry.counterparty_id}>")
    if entry.note:
        parts.append(f"· {discord.utils.escape_markdown(entry.note)}")
    if entry.multiplier_bps != 10_000:  # earned under a boost (double-GEMS weekend, event, ...)
        parts.append(f"· boost {format_factor(entry.multiplier_bps)}")
    return " ".join(parts) + f" · {when}"


#: Senders named one by one in a gift DM; the rest are counted.
GIFT_DM_SENDERS = 10


def gift_digest_text(digest: GiftDigest, s: GuildSettings, guild_name: str,
                     name_of: Callable[[int], str]) -> str:
    """The DM telling a member about the gifts they received (one DM for several gifts).

    `name_of` gives a sender's display name, already made safe (no markdown, no mentions).
    """
    lines = digest.lines
    where = f"in **{guild_name}**"
    if len(lines) == 1 and lines[0].count == 1:
        line = lines[0]
        text = f"🎁 {name_of(line.sender_id)} gave you {s.money(line.amount)} {where}"
        return text + (f": “{safe_text(line.note, limit=100)}”" if line.note else ".")
    members = f"{len(lines)} member{'s' if len(lines) != 1 else ''}"
    shown = []
    for line in lines[:GIFT_DM_SENDERS]:
        item = f"- {name_of(line.sender_id)}: {s.money(line.amount)}"
        if line.count > 1:
            item += f" ({line.count} gifts)"
        if line.note:
            item += f" “{safe_text(line.note, limit=100)}”"
        shown.append(item)
    if len(lines) > GIFT_DM_SENDERS:
        shown.append(f"- and {len(lines) - GIFT_DM_SENDERS} more")
    return (f"🎁 You received {s.money(digest.total)} {where} from {members}:\n"
            + "\n".join(shown))

