"""The persistent "Delete my data" confirm button (only the member it was shown to may click)."""

from __future__ import annotations

import re

import discord

from bot.render.grid import GRIDS
from cogs._shared.custom_ids import num, parse_id
from cogs._shared.interaction import NO_PINGS, guild_id_of, services_of
from cogs._shared.ui import RoutedView, SafeButton
from economy.core.errors import NotPermitted
from economy.privacy.service import FORFEITS, DeletionResult


def deleted_text(result: DeletionResult) -> str:
    """The confirmation after a deletion."""
    lines = ["🗑️ Done: your data in this server is anonymised. Your ledger entries stay (without "
             "your name) so everyone else's totals remain exact."]
    if result.listings_withdrawn:
        lines.append(f"Withdrawn listings: {', '.join(f'#{n}' for n in result.listings_withdrawn)}.")
    if result.forfeited:
        lines.append(f"Your remaining balance ({result.forfeited:,}) was retired with it.")
    lines.append(FORFEITS)
    return "\n".join(lines)


class ConfirmDeleteButton(SafeButton, template=rf"gems:privacy:delete:{num('user')}"):
    """Runs /privacy delete for the member in the custom id, and only for them."""

    def __init__(self, user_id: int) -> None:
        super().__init__(discord.ui.Button(
            label="Delete my data", style=discord.ButtonStyle.danger,
            custom_id=f"gems:privacy:delete:{user_id}"))
        self.user_id = user_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> ConfirmDeleteButton:
        return cls(parse_id(match["user"]))

    async def run(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.user_id:
            raise NotPermitted("This button belongs to someone else's request.")
        await interaction.response.defer()  # a big server's scan can take a few seconds
        result = await services_of(interaction).privacy.delete(guild_id_of(interaction),
                                                              self.user_id)
        GRIDS.forget_guild(guild_id_of(interaction))  # no rendered copy of their photos stays
        # The confirmation replaces the question, so the button can't be pressed again.
        await interaction.edit_original_response(content=deleted_text(result), view=None,
                                                 allowed_mentions=NO_PINGS)


def confirm_view(user_id: int) -> discord.ui.View:
    """The view carrying the confirm button."""
    view = RoutedView()
    view.add_item(ConfirmDeleteButton(user_id))
    return view
