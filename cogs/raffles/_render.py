"""Texts of raffles (presentation only)."""

from __future__ import annotations

from cogs._shared.interaction import safe_text
from economy.core.clock import unix_seconds
from economy.core.settings import GuildSettings
from economy.core.wording import plural
from economy.raffles.models import Draw, Raffle


def prize_note(raffle: Raffle) -> str:
    """` (shop item #4, 2 set aside)` for an item prize; empty for a text prize."""
    if raffle.prize_item_id is None:
        return ""
    held = f", {raffle.prize_reserved} set aside" if raffle.prize_reserved else ""
    return f" (shop item #{raffle.prize_item_id}{held})"


def raffle_line(raffle: Raffle, settings: GuildSettings, mine: int | None = None) -> str:
    """One raffle: number, prize, ticket price, cap, end, tickets sold (and yours)."""
    ends = f"<t:{unix_seconds(raffle.ends_ms)}:R>"
    state = {"open": f"ends {ends}", "closed": "drawing…", "drawn": "drawn",
             "cancelled": "cancelled (refunded)"}[raffle.status]
    yours = f" · you hold {mine}" if mine else ""
    winners = f" · {raffle.winners_count} winners" if raffle.winners_count > 1 else ""
    return (f"**#{raffle.raffle_id} {safe_text(raffle.prize, limit=100)}**{prize_note(raffle)} — "
            f"{settings.money(raffle.price)} a ticket (max {raffle.max_per_member} each){winners}"
            f" · {raffle.tickets_sold:,} sold · {state}{yours}")


def result_text(draw: Draw) -> str:
    """The public result: winners, the revealed seed, its hash, and how to check it."""
    raffle = draw.raffle
    members = len(draw.tickets)
    sold = sum(n for _, n in draw.tickets)
    if raffle.winners:
        names = ", ".join(f"<@{u}>" for u in raffle.winners)
        head = (f"🎟️ Raffle #{raffle.raffle_id} **{safe_text(raffle.prize, limit=100)}** is "
                f"drawn! Winner{'s' if len(raffle.winners) > 1 else ''}: {names}.")
    else:
        head = (f"🎟️ Raffle #{raffle.raffle_id} **{safe_text(raffle.prize, limit=100)}** ended "
                "without tickets: no winner.")
    return (f"{head}\n{plural(sold, 'ticket')} from {plural(members, 'member')}.\n"
            f"Check it: seed `{raffle.seed}` has SHA-256 `{raffle.seed_hash}` (published when the "
            "raffle opened). Tickets sorted by member id, one entry per ticket; place *i* wins "
            "entry SHA-256(`seed:i`) mod the number of entries, and the winner's other tickets "
            "leave the list.")
