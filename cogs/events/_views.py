"""Persistent event buttons and the winners select (the create form is in _form.py)."""

from __future__ import annotations

import re

import discord

from bot.error_handler import handle_interaction_error
from cogs._shared.custom_ids import num, num_list, parse_id, parse_ids
from cogs._shared.interaction import NO_PINGS, actor_of, guild_id_of, reply, safe_text, services_of
from cogs._shared.outlets import outlet_of
from cogs._shared.ui import Gated, GatedModal, RoutedView, SafeButton
from economy.core.errors import NotPermitted
from economy.events.service import MAX_WINNERS, WinnersNeedConfirmation

LABELS = {"join": ("Join", discord.ButtonStyle.success),
          "leave": ("Leave", discord.ButtonStyle.secondary),
          "checkin": ("Check in", discord.ButtonStyle.primary)}


def desk_of(interaction: discord.Interaction):
    """The events feature's outlet (its EventDesk)."""
    return outlet_of(interaction.client, "events")


async def is_manager(interaction: discord.Interaction) -> bool:
    """Admins or holders of `event_manager_role_id` (decided by the events service from the
    interaction's Actor)."""
    return await services_of(interaction).events.is_manager(guild_id_of(interaction),
                                                            await actor_of(interaction))


async def do_action(interaction: discord.Interaction, event_id: int, action: str, *,
                    code: str | None = None) -> None:
    """Join, leave or check in (commands, buttons and the code form share this).

    Defers first: a crowd pressing Check in at once queues on the store, and Discord wants the
    first response within 3 seconds.
    """
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=True, thinking=True)
    events, guild_id = services_of(interaction).events, guild_id_of(interaction)
    user = interaction.user.id
    if action == "join":
        event = await events.join(guild_id, event_id, user, via="button")
        text = f"You're going to **{safe_text(event.title, limit=100)}**. See you there!"
    elif action == "leave":
        event = await events.leave(guild_id, event_id, user)
        text = f"You left event #{event_id}."
    else:
        paid = await events.checkin(guild_id, event_id, user, code)
        settings = await services_of(interaction).settings.get(guild_id)
        text = f"Checked in to event #{event_id}." + (f" +{settings.money(paid)}" if paid else "")
    await reply(interaction, text, ephemeral=True)


class EventButton(SafeButton, template=rf"ev:(?P<action>join|leave|checkin):{num('event')}"):
    """Join / Leave / Check in on an event card; anyone may press, the service decides."""

    def __init__(self, event_id: int, action: str) -> None:
        label, style = LABELS[action]
        super().__init__(discord.ui.Button(label=label, style=style,
                                           custom_id=f"ev:{action}:{event_id}"))
        self.event_id, self.action = event_id, action

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]) -> EventButton:
        return cls(parse_id(match["event"]), match["action"])

    async def run(self, interaction: discord.Interaction) -> None:
        if self.action == "checkin":
            event = await services_of(interaction).events.get(guild_id_of(interaction),
                                                              self.event_id)
            if event.checkin_code:
                await interaction.response.send_modal(CodeModal(self.event_id))
                return
        await do_action(interaction, self.event_id, self.action)


class CodeModal(GatedModal, title="Check in"):
    """The code the host reads out."""

    code = discord.ui.TextInput(label="Check-in code", min_length=1, max_length=12)

    def __init__(self, event_id: int) -> None:
        super().__init__(timeout=900)
        self.event_id = event_id

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await do_action(interaction, self.event_id, "checkin", code=self.code.value)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await handle_interaction_error(interaction, error, where="event:code")


async def finish(interaction: discord.Interaction, event_id: int, winners: list[int], *,
                 confirm_absent: bool) -> None:
    """Complete the event, then post the summary, mirror the status and give reward roles."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    services, guild_id = services_of(interaction), guild_id_of(interaction)
    try:
        payout = await services.events.complete(
            guild_id, event_id, await actor_of(interaction), winners,
            confirm_absent=confirm_absent)
    except WinnersNeedConfirmation as error:
        view = RoutedView()
        view.add_item(ConfirmWinnersButton(event_id, interaction.user.id, winners))
        await interaction.followup.send(error.message, view=view, ephemeral=True,
                                        allowed_mentions=NO_PINGS)
        return
    if payout.already:
        await interaction.followup.send(f"Event #{event_id} was already completed; nobody was "
                                        "paid twice.", ephemeral=True)
        return
    await desk_of(interaction).completed(payout)
    await interaction.followup.send(f"Event #{event_id} completed. The summary is posted.",
                                    ephemeral=True)


class WinnerSelect(Gated, discord.ui.DynamicItem[discord.ui.UserSelect],
                   template=rf"ev:win:{num('event')}:{num('actor')}"):
    """Pick up to three winners in order (1st, 2nd, 3rd); only the member who asked may pick."""

    def __init__(self, event_id: int, actor_id: int) -> None:
        super().__init__(discord.ui.UserSelect(
            custom_id=f"ev:win:{event_id}:{actor_id}", min_values=0, max_values=3,
            placeholder="Winners in order: 1st, 2nd, 3rd (or none)"))
        self.event_id, self.actor_id = event_id, actor_id

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]) -> WinnerSelect:
        return cls(parse_id(match["event"]), parse_id(match["actor"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            if interaction.user.id != self.actor_id:
                raise NotPermitted("This winners picker belongs to someone else.")
            winners = [u.id for u in self.item.values]
            await finish(interaction, self.event_id, winners, confirm_absent=False)
        except Exception as error:
            await handle_interaction_error(interaction, error, where="event:winners")


class ConfirmWinnersButton(
    SafeButton, template=rf"ev:winok:{num('event')}:{num('actor')}:{num_list('ids', MAX_WINNERS)}"
):
    """Confirms winners who did not check in."""

    def __init__(self, event_id: int, actor_id: int, winners: list[int]) -> None:
        ids = "-".join(str(w) for w in winners)
        super().__init__(discord.ui.Button(label="Confirm winners", style=discord.ButtonStyle.danger,
                                           custom_id=f"ev:winok:{event_id}:{actor_id}:{ids}"))
        self.event_id, self.actor_id, self.winners = event_id, actor_id, winners

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]) -> ConfirmWinnersButton:
        winners = parse_ids(match["ids"])
        return cls(parse_id(match["event"]), parse_id(match["actor"]), winners)

    async def run(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.actor_id:
            raise NotPermitted("This confirmation belongs to someone else.")
        await finish(interaction, self.event_id, self.winners, confirm_absent=True)

