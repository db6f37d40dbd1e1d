"""Texts and embeds for /boost-admin (presentation only)."""

from __future__ import annotations

import discord

from cogs._shared.fit import fit_lines
from economy.boosts.service import BoostNotice, BoostStats, Scheduled, Window, format_factor
from economy.core.settings import GuildSettings

BOOST_COLOUR = discord.Colour.from_rgb(255, 196, 64)
SOURCE_LABELS = {"activity": "Chat activity", "daily": "Daily", "earn": "Earned",
                 "reward": "Rewards"}
STACKING_RULES = {
    "highest": "when boosts overlap, the highest factor applies",
    "multiply": "when boosts overlap, their factors multiply (capped at x10)",
}


def _when(window: Window) -> str:
    start = discord.utils.format_dt(window.starts_at, "f")
    end = discord.utils.format_dt(window.ends_at, "f")
    return f"{start} → {end}"


def window_line(window: Window) -> str:
    """One boost as a list line."""
    reason = discord.utils.escape_markdown(window.reason)
    return f"`{window.boost_id}` **{format_factor(window.factor_bps)}** {reason} · {_when(window)}"


def scheduled_text(result: Scheduled) -> str:
    """The admin's confirmation, including the stacking rule when boosts overlap."""
    text = f"Scheduled boost {window_line(result.window)}."
    if result.overlapping:
        ids = ", ".join(f"`{w.boost_id}`" for w in result.overlapping)
        text += (f"\nIt overlaps {ids}: that is allowed — {STACKING_RULES[result.stacking]} "
                 "(setting `boost_stacking`).")
    return text


def list_embed(windows: list[Window], settings: GuildSettings) -> discord.Embed:
    """Active and upcoming boosts."""
    embed = discord.Embed(title="Earning boosts", colour=BOOST_COLOUR)
    embed.description = fit_lines([window_line(w) for w in windows]) or "No boosts scheduled."
    applies = ", ".join(settings.boost_applies_to) or "nothing"
    embed.set_footer(text=f"Applies to: {applies} · {STACKING_RULES[settings.boost_stacking]}")
    return embed


def notice_text(notice: BoostNotice, settings: GuildSettings) -> str:
    """The announcement of a boost starting or ending."""
    window, factor = notice.window, format_factor(notice.window.factor_bps)
    reason = discord.utils.escape_markdown(window.reason)
    if notice.kind == "start":
        until = discord.utils.format_dt(window.ends_at, "F")
        applies = ", ".join(settings.boost_applies_to)
        return (f"🎉 **{factor} {settings.currency_name}** — {reason} — starts now and runs until "
                f"{until}! Boosted: {applies}.")
    if window.status == "cancelled":
        return f"The {factor} boost ({reason}) was cancelled. Earnings are back to normal."
    return f"The {factor} boost ({reason}) has ended. Thanks for joining in!"


def stats_text(stats: BoostStats, settings: GuildSettings) -> tuple[str, list[str], list[int], list[int]]:
    """The numbers of /boost-admin stats, and the chart series (sources, before, during)."""
    sources = sorted(set(stats.during) | set(stats.week_before))
    before = [stats.week_before.get(s, 0) for s in sources]
    during = [stats.during.get(s, 0) for s in sources]
    lines = [f"Boost {window_line(stats.window)}",
             f"Figures over {stats.hours:.1f} h, compared with the same hours one week before:"]
    for source, b, d in zip(sources, before, during, strict=True):
        lines.append(f"• {SOURCE_LABELS.get(source, source)}: {d:,} during vs {b:,} before")
    total_b, total_d = sum(before), sum(during)
    change = f" ({(total_d - total_b) * 100 // total_b:+d} %)" if total_b else ""
    lines.append(f"**Total: {settings.money(total_d)} during vs {total_b:,} before{change}**")
    return "\n".join(lines), [SOURCE_LABELS.get(s, s) for s in sources], before, during
