"""/event commands and the "Interested" listeners. Thin: parse, call one service, render."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from cogs._shared.feature_cog import FeatureCog, admin_group, member_group, service_checked
from cogs._shared.interaction import actor_of, guild_id_of, reply, safe_text, services_of
from cogs._shared.time_option import MinutesDuration, When, member_zone
from cogs._shared.ui import RoutedView
from cogs.events._form import EventModal
from cogs.events._render import attendees_embed, event_embed, list_embed
from cogs.events._views import WinnerSelect, desk_of, do_action
from economy.core.clock import from_ms, to_ms
from economy.core.errors import GemsError, InvalidInput
from economy.core.timeparse import parse_duration

log = logging.getLogger(__name__)

EventId = app_commands.Range[int, 1, 10**12]
EventType = Literal["challenge", "contest", "educational", "social", "ama"]


async def _require_manager(interaction: discord.Interaction) -> None:
    await services_of(interaction).events.require_manager(guild_id_of(interaction),
                                                          await actor_of(interaction))


_POWERFUL = discord.Permissions(administrator=True, manage_guild=True, manage_roles=True,
                                manage_channels=True, manage_messages=True, kick_members=True,
                                ban_members=True, moderate_members=True, manage_webhooks=True)


def _check_reward_role(role: discord.Role) -> None:
    """A reward role must be a plain role the bot can give (never a staff role)."""
    if role.is_default() or role.managed:
        raise InvalidInput("Pick a normal role as the reward (not @everyone or a bot's role).")
    if role.permissions.value & _POWERFUL.value:
        raise InvalidInput("The reward role has moderation or admin permissions; pick a role "
                           "without them.")
    if not role.is_assignable():
        raise InvalidInput("I can't give that role: move my role above it in Server Settings.")


def _minutes(duration: str) -> int:
    """A duration option (`90m`, `2h`, `90`) in whole minutes (rounded up)."""
    seconds = parse_duration(duration, bare="minutes").total_seconds()
    return int(-(-seconds // 60))


class EventsCog(FeatureCog):
    """Community events: create, RSVP, check in, complete with rewards."""

    event = member_group("event", "Community events")
    # Event managers (admins or `event_manager_role_id`) and hosts; the service checks who.
    event_admin = admin_group("event-admin", "Create and run community events (event managers)")

    @event_admin.command(name="create", description="Event managers: create an event (opens a form)")
    @service_checked("admin")
    @app_commands.describe(
        type="What kind of event",
        start="When, in your time zone: `now`, `tomorrow 18:00`, `friday 9pm`, `2026-12-24 19:00`",
        duration="How long: `90m`, `2h`, `1h30m` (a plain number is minutes; up to 31 days)",
        channel="Where it happens (default: here)",
        reward_role="A role for attendees when it completes (how long: `role 7d` in the form)",
        require_code="Check-in needs a code the host reads out (shown to you after creating)")
    async def create(
        self, interaction: discord.Interaction, type: EventType, start: When,
        duration: MinutesDuration, channel: discord.TextChannel | None = None,
        reward_role: discord.Role | None = None, require_code: bool = False,
    ):
        await _require_manager(interaction)
        if reward_role is not None:
            _check_reward_role(reward_role)
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        zone = await member_zone(interaction)
        options = {"type": type, "start": start, "duration_minutes": _minutes(duration),
                   "channel_id": channel.id if channel else interaction.channel_id,
                   "role_id": reward_role.id if reward_role else None,
                   "require_code": require_code, "zone": zone}
        # Checked before the form opens, so a mistake costs no typing; the start is pinned to
        # the moment it meant now (`in 1h` must not drift while the form is filled in).
        draft = await services.events.draft(guild_id, capacity=None,
                                            role_days=1 if reward_role else 0, **options)
        starts_now = draft.starts_ms <= to_ms(services.clock.now() + timedelta(minutes=1))
        options["start"] = "now" if starts_now else from_ms(draft.starts_ms).isoformat()
        await interaction.response.send_modal(EventModal(options))

    @event_admin.command(name="edit", description="Host or manager: change a scheduled event")
    @service_checked("admin")
    @app_commands.describe(event="Event number", title="New title",
                           start="New start in your time zone (`friday 18:00`, `2026-12-24 19:00`)",
                           duration="New length: `90m`, `2h` (a plain number is minutes)",
                           capacity="New capacity")
    async def edit(self, interaction: discord.Interaction, event: EventId,
                   title: app_commands.Range[str, 1, 100] | None = None,
                   start: When | None = None,
                   duration: MinutesDuration | None = None, capacity: int | None = None):
        updated = await services_of(interaction).events.edit(
            guild_id_of(interaction), event, await actor_of(interaction), title=title, start=start,
            duration_minutes=_minutes(duration) if duration is not None else None,
            capacity=capacity, zone=await member_zone(interaction))
        await desk_of(interaction).mirror_times(updated)
        settings = await services_of(interaction).settings.get(guild_id_of(interaction))
        await reply(interaction, f"Updated event #{event}.", embed=event_embed(updated, settings),
                    ephemeral=True)

    @event_admin.command(name="cancel", description="Host or manager: cancel an event")
    @service_checked("admin")
    @app_commands.describe(event="Event number")
    async def cancel(self, interaction: discord.Interaction, event: EventId):
        cancelled = await services_of(interaction).events.cancel(
            guild_id_of(interaction), event, await actor_of(interaction))
        desk = desk_of(interaction)
        await desk.mirror(cancelled, status=4)
        await reply(interaction, f"Cancelled event #{event}.", ephemeral=True)
        await desk.post(cancelled, f"✖️ Event #{event} "
                        f"(**{safe_text(cancelled.title, limit=100)}**) was cancelled.")

    @event.command(name="list", description="Upcoming, live or past events")
    @app_commands.describe(which="Which events to show")
    async def list_(self, interaction: discord.Interaction,
                    which: Literal["upcoming", "live", "past"] = "upcoming"):
        found = await services_of(interaction).events.list(guild_id_of(interaction), which)
        await reply(interaction, embed=list_embed(which, found), ephemeral=True)

    @event.command(name="view", description="One event, with Join / Leave / Check in")
    @app_commands.describe(event="Event number")
    async def view(self, interaction: discord.Interaction, event: EventId):
        from cogs.events._discord import event_view

        services, guild_id = services_of(interaction), guild_id_of(interaction)
        found = await services.events.get(guild_id, event)
        settings = await services.settings.get(guild_id)
        await reply(interaction, embed=event_embed(found, settings), view=event_view(found),
                    ephemeral=True)

    @event.command(name="join", description="RSVP to an event")
    @app_commands.describe(event="Event number")
    async def join(self, interaction: discord.Interaction, event: EventId):
        await do_action(interaction, event, "join")

    @event.command(name="leave", description="Withdraw your RSVP")
    @app_commands.describe(event="Event number")
    async def leave(self, interaction: discord.Interaction, event: EventId):
        await do_action(interaction, event, "leave")

    @event.command(name="checkin", description="Check in while the event runs")
    @app_commands.describe(event="Event number", code="The code the host reads out (if needed)")
    async def checkin(self, interaction: discord.Interaction, event: EventId,
                      code: app_commands.Range[str, 1, 12] | None = None):
        await do_action(interaction, event, "checkin", code=code)

    @event_admin.command(name="complete", description="Host or manager: finish an event and pick winners")
    @service_checked("admin")
    @app_commands.describe(event="Event number")
    async def complete(self, interaction: discord.Interaction, event: EventId):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        found = await services.events.get(guild_id, event)
        await services.events.check_host(found, await actor_of(interaction))
        view = RoutedView()
        view.add_item(WinnerSelect(event, interaction.user.id))
        await reply(interaction, f"Pick the winners of event #{event} in order (1st, 2nd, 3rd), "
                    "or pick nobody to complete it without prizes.", view=view, ephemeral=True)

    @event.command(name="attendees", description="Who is going and who checked in")
    @app_commands.describe(event="Event number")
    async def attendees(self, interaction: discord.Interaction, event: EventId):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        found = await services.events.get(guild_id, event)
        rsvps, checkins = await services.events.attendees(guild_id, event)
        await reply(interaction, embed=attendees_embed(found, rsvps, checkins), ephemeral=True)

    # --- autocomplete: live and upcoming events --------------------------------------------
    @edit.autocomplete("event")
    @cancel.autocomplete("event")
    @view.autocomplete("event")
    @join.autocomplete("event")
    @leave.autocomplete("event")
    @checkin.autocomplete("event")
    @complete.autocomplete("event")
    @attendees.autocomplete("event")
    async def _event_choices(self, interaction: discord.Interaction, current: str):
        events, guild_id = services_of(interaction).events, guild_id_of(interaction)
        found = await events.list(guild_id, "live") + await events.list(guild_id, "upcoming")
        needle = current.lower().lstrip("#")
        return [app_commands.Choice(name=f"#{e.event_id} {e.title} ({e.status})"[:100],
                                    value=e.event_id)
                for e in found if needle in str(e.event_id) or needle in e.title.lower()][:25]

    # --- "Interested" on the mirrored Discord event counts as an RSVP -----------------------
    @commands.Cog.listener()
    async def on_scheduled_event_user_add(self, scheduled: discord.ScheduledEvent,
                                          user: discord.User) -> None:
        await self._interested(scheduled, user, True)

    @commands.Cog.listener()
    async def on_scheduled_event_user_remove(self, scheduled: discord.ScheduledEvent,
                                             user: discord.User) -> None:
        await self._interested(scheduled, user, False)

    async def _interested(self, scheduled: discord.ScheduledEvent, user: discord.User,
                          interested: bool) -> None:
        events = self.bot.services.events
        found = await events.by_discord_id(scheduled.guild.id, scheduled.id)
        if found is None or user.bot:
            return
        try:
            if interested:
                await events.join(found.guild_id, found.event_id, user.id, via="discord")
            else:
                await events.leave(found.guild_id, found.event_id, user.id)
        except GemsError as error:  # full, over, already joined: Discord keeps its own list
            log.info("interested %s on event %s not mirrored: %s", user.id, found.event_id,
                     error.message)
