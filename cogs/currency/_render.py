"""Embeds for the currency commands (presentation only)."""

from __future__ import annotations

from collections.abc import Callable

import discord

from cogs._shared.interaction import safe_text
from economy.boosts.service import format_factor
from economy.core.models import Account, DailyClaim, LedgerEntry, Page
from economy.core.settings import GuildSettings
from economy.core.wording import plural
from economy.currency.gifts import GiftDigest
from economy.currency.review import MemberReview
from economy.trades.models import Trade

GEM_COLOUR = discord.Colour.from_rgb(64, 196, 255)

KIND_LABELS = {
    "transfer": "Transfer", "grant": "Admin grant", "take": "Admin removal", "daily": "Daily",
    "activity": "Chat activity", "earn": "Earned", "reward": "Reward",
    "escrow_hold": "Held in escrow", "escrow_release": "Paid from escrow", "refund": "Refund",
    "fee": "Fee", "purchase": "Purchase", "spend": "Shop purchase", "sink": "Shop sales",
}


def balance_embed(name: str, account: Account, rank: int | None, s: GuildSettings) -> discord.Embed:
    """A member's wallet."""
    embed = discord.Embed(title=f"{name}'s wallet", colour=GEM_COLOUR)
    embed.add_field(name="Balance", value=s.money(account.balance), inline=False)
    if account.held:
        embed.add_field(name="Held in escrow", value=s.money(account.held))
    embed.add_field(name="Lifetime earned", value=s.money(account.lifetime_earned))
    embed.add_field(name="Rank", value=f"#{rank}" if rank else "—")
    if account.daily_streak:
        embed.add_field(name="Daily streak", value=plural(account.daily_streak, "day"))
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
    embed.set_footer(text=f"Page {page.page}/{page.pages} · {plural(page.total, 'entry', 'entries')} · {s.currency_name}")
    return embed


def _history_line(entry: LedgerEntry) -> str:
    sign = "+" if entry.delta >= 0 else "−"
    label = KIND_LABELS.get(entry.kind, entry.kind.title())
    when = discord.utils.format_dt(entry.at, "d")
    if entry.delta == 0 and entry.held_delta:  # moved between balance and escrow hold
        parts = [f"`{abs(entry.held_delta):,}` {label}"]
    else:
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



def member_review_embed(name: str, review: MemberReview, s: GuildSettings) -> discord.Embed:
    """Staff's private look at one member (`/gems-admin member`)."""
    account = review.account
    embed = discord.Embed(title=f"{name}: member records", colour=GEM_COLOUR)
    wallet = [f"Balance {s.money(account.balance)}", f"lifetime earned {account.lifetime_earned:,}",
              f"rank #{review.rank}" if review.rank else "unranked"]
    if account.held:
        wallet.insert(1, f"held in escrow {account.held:,}")
    if account.daily_streak:
        wallet.append(f"daily streak {account.daily_streak}")
    embed.description = f"<@{review.user_id}> · " + " · ".join(wallet)
    entries = "\n".join(_history_line(e) for e in review.entries) or "No movements yet."
    if review.entry_count > len(review.entries):
        entries += f"\n…{review.entry_count - len(review.entries):,} older"
    embed.add_field(name=f"Recent ledger ({review.entry_count:,} entries)",
                    value=_cap(entries), inline=False)
    trades = "\n".join(_trade_line(t, review.user_id, s) for t in review.trades) or "None."
    embed.add_field(name="Trades", value=_cap(trades), inline=False)
    disputes = "\n".join(_dispute_line(t) for t in review.disputes) or "None."
    embed.add_field(name="Disputes", value=_cap(disputes), inline=False)
    flags = "\n".join(
        f"🚩 {f.text}" + (f" · {discord.utils.format_dt(f.at, 'R')}" if f.at else "")
        for f in review.flags) or "None."
    embed.add_field(name="Flags", value=_cap(flags), inline=False)
    wallets = "\n".join(f"`{address}`" for address in review.wallets) or "None linked."
    embed.add_field(name="Linked wallets", value=_cap(wallets), inline=False)
    return embed


def _trade_line(trade: Trade, user_id: int, s: GuildSettings) -> str:
    role = trade.role_of(user_id) or "party"
    other = trade.seller_id if role == "buyer" else trade.buyer_id
    title = safe_text(trade.title, limit=40)
    return (f"#{trade.trade_id} {title} · {trade.money(s)} · {role} with <@{other}> · "
            f"{trade.status} · {discord.utils.format_dt(trade.created_at, 'd')}")


def _dispute_line(trade: Trade) -> str:
    reason = safe_text(str((trade.dispute or {}).get("reason") or ""), limit=80)
    outcome = (trade.resolution or {}).get("outcome")
    state = f"resolved: {outcome}" if outcome else trade.status
    return f"#{trade.trade_id} · {state}" + (f" · “{reason}”" if reason else "")


def _cap(text: str, limit: int = 1024) -> str:
    # An embed field holds 1,024 characters; cut at a line so no mention or link is split.
    if len(text) <= limit:
        return text
    cut = text[: limit - 2].rsplit("\n", 1)[0]
    return cut + "\n…"
