"""Embeds and texts for community events (presentation only)."""

from __future__ import annotations

import discord

from cogs._shared.fit import fit_lines
from economy.core.settings import GuildSettings
from economy.core.wording import plural
from economy.events.service import CommunityEvent, Payout

EVENT_COLOUR = discord.Colour.from_rgb(160, 110, 255)
STATUS_ICONS = {"scheduled": "🗓️", "live": "🔴", "completed": "🏁", "cancelled": "✖️"}


def _title(event: CommunityEvent) -> str:
    return discord.utils.escape_mentions(discord.utils.escape_markdown(event.title))


def when_text(event: CommunityEvent) -> str:
    """Start and end as Discord timestamps (shown in each reader's zone)."""
    start = discord.utils.format_dt(event.starts_at, "F")
    end = discord.utils.format_dt(event.ends_at, "t")
    return f"{start} – {end} ({discord.utils.format_dt(event.starts_at, 'R')})"


def rewards_text(event: CommunityEvent, s: GuildSettings) -> str:
    """The rewards an event pays."""
    parts = []
    if event.reward("attend"):
        parts.append(f"{s.money(event.reward('attend'))} for checking in")
    if event.reward("complete"):
        parts.append(f"{s.money(event.reward('complete'))} to every attendee at the end")
    prizes = [event.reward(f"place{r}") for r in (1, 2, 3)]
    if any(prizes):
        parts.append("prizes " + " / ".join(f"{p:,}" for p in prizes if p))
    if event.rewards.get("role_id"):
        parts.append(f"<@&{event.rewards['role_id']}> for {event.rewards.get('role_days')} days")
    return "; ".join(parts) or "none"


def event_embed(event: CommunityEvent, s: GuildSettings) -> discord.Embed:
    """One event."""
    icon = STATUS_ICONS.get(event.status, "")
    embed = discord.Embed(title=f"{icon} Event #{event.event_id}: {event.title}"[:256],
                          colour=EVENT_COLOUR)
    embed.description = discord.utils.escape_markdown(event.description)[:1000] or None
    embed.add_field(name="When", value=when_text(event), inline=False)
    embed.add_field(name="Type", value=event.type.upper() if event.type == "ama" else event.type.title())
    embed.add_field(name="Host", value=", ".join(f"<@{h}>" for h in event.host_ids))
    places = f"{event.rsvp_count}/{event.capacity}" if event.capacity else f"{event.rsvp_count}"
    embed.add_field(name="Going", value=places)
    if event.channel_id:
        embed.add_field(name="Where", value=f"<#{event.channel_id}>")
    embed.add_field(name="Rewards", value=rewards_text(event, s)[:1024], inline=False)
    embed.set_footer(text=f"Status: {event.status}")
    return embed


def list_embed(which: str, events: list[CommunityEvent]) -> discord.Embed:
    """A list of events."""
    embed = discord.Embed(title=f"{which.title()} events", colour=EVENT_COLOUR)
    lines = [f"{STATUS_ICONS.get(e.status, '')} **#{e.event_id}** {_title(e)} · "
             f"{discord.utils.format_dt(e.starts_at, 'f')}" for e in events]
    embed.description = fit_lines(lines) or "No events here yet."
    return embed


def attendees_embed(event: CommunityEvent, rsvps: list[int], checkins: list[int]) -> discord.Embed:
    """Who is going and who checked in."""
    embed = discord.Embed(title=f"Event #{event.event_id}: attendees"[:256], colour=EVENT_COLOUR)
    def people(ids: list[int]) -> str:
        text = " ".join(f"<@{u}>" for u in ids[:80])
        return (text + (f" … and {len(ids) - 80} more" if len(ids) > 80 else "")) or "nobody yet"

    embed.add_field(name=f"Going ({len(rsvps)})", value=people(rsvps)[:1024], inline=False)
    embed.add_field(name=f"Checked in ({len(checkins)})", value=people(checkins)[:1024], inline=False)
    return embed


def summary_text(payout: Payout, total_paid: int, s: GuildSettings) -> str:
    """The completion post: attendance, winners, GEMS paid."""
    event = payout.event
    medals = ("🥇", "🥈", "🥉")
    lines = [f"🏁 **{_title(event)}** (event #{event.event_id}) is complete! "
             f"{plural(len(payout.attendees), 'member')} checked in."]
    if payout.winners:
        lines.append("Winners: " + "  ".join(f"{medals[i]} <@{u}>"
                                            for i, u in enumerate(payout.winners[:3])))
    lines.append(f"Rewards paid: {s.money(total_paid)}.")
    return "\n".join(lines)


def reminder_text(event: CommunityEvent, lead: str, guild_name: str) -> str:
    """The DM reminder."""
    return (f"⏰ Reminder: **{_title(event)}** in {discord.utils.escape_markdown(guild_name)} "
            f"starts {discord.utils.format_dt(event.starts_at, 'R')} ({lead} from now).")


def live_text(event: CommunityEvent) -> str:
    """The go-live announcement."""
    return (f"🔴 **{_title(event)}** (event #{event.event_id}) is live now! Press **Check in** "
            "below (or `/event checkin`) to be counted.")
