"""How badges read in Discord: one line per badge, and a member's list."""

from __future__ import annotations

import discord

from cogs._shared.interaction import safe_text
from economy.badges.models import Award, Badge
from economy.badges.rules import rule_text

RARITY_COLOURS = {"common": 0x9AA5B1, "rare": 0x3B82F6, "epic": 0xA855F7,
                  "legendary": 0xF59E0B}


def badge_line(badge: Badge, award: Award | None = None) -> str:
    """`🏷️ **First sale** (common) · 1 sales completed as the seller`, with the edition number
    (and a collectible's id, which `/list-item collectible:` and `/profile collectible` take)."""
    edition = ""
    if award is not None and award.serial is not None:
        edition = f" · #{award.serial} of {badge.supply:,}"
        if award.collectible:
            edition += f" · collectible `{award.edition_id}`"
    elif badge.tradeable:
        edition = f" · tradeable, limited to {badge.supply:,}"
    elif badge.supply is not None:
        edition = f" · limited to {badge.supply:,}"
    how = rule_text(badge) if badge.rule is not None else safe_text(badge.description, limit=100)
    return (f"{badge.emoji} **{safe_text(badge.name, limit=40)}** `{badge.key}` "
            f"({badge.rarity}){edition} · {how}")


def list_embed(name: str, awards: list[Award], catalogue: dict[str, Badge]) -> discord.Embed:
    """A member's badges, and the automatic ones still to earn."""
    embed = discord.Embed(title=f"{name}'s badges ({len(awards)})", colour=0x5865F2)
    held = {a.badge.key for a in awards}
    lines = [badge_line(a.badge, a) for a in awards] or ["No badges yet."]
    embed.description = "\n".join(lines)[:4000]
    todo = [badge_line(b) for b in catalogue.values() if b.key not in held and b.rule is not None]
    if todo:
        embed.add_field(name="Still to earn", value=_fitting(todo, 1024), inline=False)
    return embed


def _fitting(lines: list[str], limit: int) -> str:
    """Whole lines within `limit` characters, and how many more did not fit."""
    shown: list[str] = []
    for index, line in enumerate(lines):
        more = f"\n…and {len(lines) - index} more"
        if len("\n".join([*shown, line])) + len(more) > limit:
            return "\n".join([*shown, more.strip()])
        shown.append(line)
    return "\n".join(shown)
