"""How a profile reads in Discord: the card's text (`card_data`, also its alt text) and the
embed beside it (the fallback when the picture cannot be drawn)."""

from __future__ import annotations

from collections.abc import Callable

import discord

from bot.render.profile_card import CardBadge, CardData
from cogs._shared.interaction import safe_text
from economy.profile.models import PARTS, ProfileView

RARITY_COLOURS = {"common": 0x9AA5B1, "rare": 0x3B82F6, "epic": 0xA855F7,
                  "legendary": 0xF59E0B}

#: Name a role id (the NFT rules' roles) for the card.
RoleName = Callable[[int], str]


def standing_lines(view: ProfileView, money: Callable[[int], str], role_name: RoleName, *,
                   card: bool = False) -> list[tuple[str, str]]:
    """(label, value) for every part the viewer may see and that has something to say
    (`card`: in the words the card's font can draw, no emoji or stars)."""
    rows: list[tuple[str, str]] = []
    if view.balance is not None:
        rank = f"rank #{view.rank:,}" if view.rank else "unranked"
        rows.append(("Balance", f"{money(view.balance)} · {rank}"))
    if view.daily_streak is not None:
        rows.append(("Daily streak", f"{view.daily_streak:,} days"))
    if view.badges_held is not None:
        rows.append(("Badges", f"{view.badges_held:,} held"))
    if view.ratings is not None:
        stars = (f"{view.rating_average:.1f}/5" if card else f"★ {view.rating_average:.1f}"
                 ) if view.rating_average is not None else ""
        rating = (f"{stars} ({view.ratings:,} ratings)"
                  if view.rating_average is not None else "no ratings yet")
        trades = view.completed_trades or 0
        rows.append(("Seller", f"{rating} · {trades:,} trade{'' if trades == 1 else 's'}"))
    if view.mentor_level is not None:
        level, name = view.mentor_level
        rows.append(("Mentor", f"{name} (level {level})"))
    if view.nft is not None:
        held = ", ".join(role_name(r) for r in view.nft.rule_roles) or "no rule held"
        wallets = f"{view.nft.wallets} wallet{'s' if view.nft.wallets != 1 else ''}"
        rows.append(("NFT", f"{wallets} · {held}"))
    if view.season is not None:
        season = view.season
        where = f"#{season.position:,}" if season.position else "not on the board"
        when = "" if season.running else " (last)"
        rows.append(("Season", f"{season.name}{when}: {where}"))
    return rows


def card_data(name: str, view: ProfileView, money: Callable[[int], str],
              role_name: RoleName) -> CardData:
    """What the card draws (and its alt text says); `money` without the currency's emoji."""
    lines = tuple(f"{label}: {value}"
                  for label, value in standing_lines(view, money, role_name, card=True))
    note = None
    if "badges" in view.withheld:
        note = "Badges hidden"
    elif view.badges_held is not None and not view.showcase:
        note = "No badges pinned"
    return CardData(name=name, lines=lines, showcase=tuple(
        CardBadge(a.badge.name, a.badge.rarity, a.serial) for a in view.showcase),
        showcase_note=note)


def profile_embed(name: str, view: ProfileView, money: Callable[[int], str],
                  role_name: RoleName) -> discord.Embed:
    """The profile as a rich embed: the same standing, the showcased badges with their emoji."""
    top = view.showcase[0].badge.rarity if view.showcase else "common"
    embed = discord.Embed(title=name, colour=RARITY_COLOURS[top])
    for label, value in standing_lines(view, money, role_name):
        embed.add_field(name=label, value=value)
    if view.badges_held is not None:
        shown = "\n".join(f"{a.badge.emoji} **{safe_text(a.badge.name, limit=40)}** · "
                          f"{a.badge.rarity}" + (f" #{a.serial}" if a.serial else "")
                          for a in view.showcase)
        embed.add_field(name="Showcase", value=shown or "Nothing pinned (`/profile showcase`).",
                        inline=False)
    if view.own and view.hidden:
        embed.set_footer(text="Hidden from others: " + ", ".join(PARTS[p] for p in view.hidden)
                         + " (/profile hide)")
    elif view.withheld:
        embed.set_footer(text="Some parts are private.")
    return embed
