"""The Discord side of community events: the mirrored scheduled event, posts, DMs and roles.

Failures talking to Discord are logged and never undo what the ledger recorded.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from cogs._shared.outlets import Outlet
from cogs.events._render import (
    event_embed,
    live_text,
    reminder_text,
    summary_text,
)
from economy.events.service import CommunityEvent, EventNotice, Payout

log = logging.getLogger(__name__)


def event_view(event: CommunityEvent) -> discord.ui.View:
    """Join / Leave / Check in buttons (persistent DynamicItems)."""
    from cogs.events._views import EventButton

    view = discord.ui.View(timeout=None)
    for action in ("join", "leave", "checkin"):
        view.add_item(EventButton(event.event_id, action))
    return view


class EventDesk(Outlet):
    """Everything the events feature says or changes on Discord."""

    feature = "events"
    sweep_job = "event-sweep"

    async def post(self, event: CommunityEvent, content: str | None = None, *,
                   embed: discord.Embed | None = None, view: discord.ui.View | None = None) -> None:
        """Post in the event's channel."""
        await self.send_to(event.channel_id, content, embed=embed, view=view,
                           about=f"event {event.event_id}")

    async def announce_new(self, event: CommunityEvent) -> None:
        """The public card with RSVP buttons, and the mirrored Discord scheduled event."""
        settings = await self.services.settings.get(event.guild_id)
        await self.post(event, "📣 New community event!", embed=event_embed(event, settings),
                        view=event_view(event))
        guild = self.bot.get_guild(event.guild_id)
        if guild is None:
            return
        channel = await self.channel(event.channel_id)
        location = f"#{getattr(channel, 'name', 'server')}"[:100]
        try:
            mirrored = await guild.create_scheduled_event(
                name=event.title[:100], start_time=event.starts_at, end_time=event.ends_at,
                entity_type=discord.EntityType.external, location=location,
                privacy_level=discord.PrivacyLevel.guild_only,
                description=event.description[:1000] or discord.utils.MISSING)
        except discord.HTTPException:
            log.warning("could not mirror event %s as a scheduled event", event.event_id,
                        exc_info=True)
            return
        await self.services.events.attach_discord(event.guild_id, event.event_id, mirrored.id)

    async def mirror(self, event: CommunityEvent, **changes: Any) -> None:
        """Apply changes (name, times, status) to the mirrored scheduled event."""
        if event.discord_event_id is None:
            return
        try:
            await self.bot.http.edit_scheduled_event(event.guild_id, event.discord_event_id,
                                                     **changes)
        except discord.HTTPException:
            log.warning("could not update the scheduled event of event %s", event.event_id,
                        exc_info=True)

    async def mirror_times(self, event: CommunityEvent) -> None:
        """Name and times after an edit."""
        await self.mirror(event, name=event.title[:100],
                          scheduled_start_time=event.starts_at.isoformat(),
                          scheduled_end_time=event.ends_at.isoformat())

    async def completed(self, payout: Payout) -> None:
        """Summary post, mirrored status, reward roles."""
        event = payout.event
        settings = await self.services.settings.get(event.guild_id)
        total = await self.services.events.paid_total(event)
        await self.post(event, summary_text(payout, total, settings))
        if event.discord_event_id is not None:
            if not event.live_announced:  # Discord only completes an active event
                await self.mirror(event, status=2)
            await self.mirror(event, status=3)
        role_id = event.rewards.get("role_id")
        for user_id in payout.role_grants:
            await self.set_role(event.guild_id, user_id, int(role_id), add=True,
                                reason=f"event #{event.event_id} reward")

    def register_work(self) -> None:
        """Sweep notices are delivered by the process that owns the guild's shard."""
        self.work("event-notice", self.deliver, EventNotice)

    async def deliver(self, notice: EventNotice) -> None:
        """Act on one sweep notice."""
        event = notice.event
        if notice.kind in ("remind24", "remind1") and event is not None:
            guild = self.bot.get_guild(event.guild_id)
            lead = "24 hours" if notice.kind == "remind24" else "1 hour"
            for user_id in notice.users:
                await self.dm(event.guild_id, user_id, reminder_text(event, lead, guild.name if guild else "the server"))
        elif notice.kind == "live" and event is not None:
            await self.post(event, live_text(event), view=event_view(event))
            await self.mirror(event, status=2)
        elif notice.kind == "new" and event is not None:  # the next occurrence of a series
            await self.announce_new(event)
        elif notice.kind == "payout" and notice.payout is not None:
            await self.completed(notice.payout)
        elif notice.kind == "role_expired" and notice.guild_id is not None:
            for user_id in notice.users:
                await self.set_role(notice.guild_id, user_id, int(notice.role_id or 0), add=False,
                                    reason="event reward role expired")

    async def sweep(self) -> int:
        """The scheduled job: reminders, going live, unfinished payouts, expired roles."""
        notices = await self.services.events.sweep()
        return await self.hand_over("event-notice", notices, notice_guild)


def notice_guild(notice: EventNotice) -> int:
    """The guild an event notice concerns."""
    if notice.event is not None:
        return notice.event.guild_id
    if notice.payout is not None:
        return notice.payout.event.guild_id
    return int(notice.guild_id or 0)
