"""Restart-proof pagination buttons: the page and owner live in the button's custom id."""

from __future__ import annotations

import re
from typing import ClassVar

import discord

from cogs._shared.custom_ids import parse_id
from cogs._shared.ui import RoutedView, SafeButton
from economy.core.errors import NotPermitted


class PageButton(SafeButton, template=r"__abstract_page__"):
    """Base of a persistent Prev/Next button. Subclasses set `prefix`, `template` and `render`.

    custom_id = `{prefix}:{owner}:{page}:{direction}`; owner 0 means anyone may click.
    """

    prefix: ClassVar[str] = ""

    def __init__(self, owner: int, page: int, direction: str, *, disabled: bool = False) -> None:
        label = "◀ Prev" if direction == "prev" else "Next ▶"
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.secondary, disabled=disabled,
                custom_id=f"{self.prefix}:{owner}:{page}:{direction}",
            )
        )
        self.owner, self.page, self.direction = owner, page, direction

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> PageButton:
        return cls(parse_id(match["owner"]), parse_id(match["page"]), match["direction"])

    @classmethod
    async def render(cls, interaction: discord.Interaction, owner: int, page: int) -> tuple[
        discord.Embed, int, int
    ]:
        """Build the embed for `page`; returns (embed, total pages, page actually shown)."""
        raise NotImplementedError  # pragma: no cover - every subclass defines it

    @classmethod
    def view_for(cls, owner: int, page: int, pages: int) -> discord.ui.View | None:
        """Prev/Next buttons for a page (None when there is only one page)."""
        if pages <= 1:
            return None
        view = RoutedView()
        view.add_item(cls(owner, max(1, page - 1), "prev", disabled=page <= 1))
        view.add_item(cls(owner, min(pages, page + 1), "next", disabled=page >= pages))
        return view

    async def run(self, interaction: discord.Interaction) -> None:
        if self.owner and interaction.user.id != self.owner:
            raise NotPermitted("These buttons belong to someone else's command.")
        embed, pages, page = await self.render(interaction, self.owner, self.page)
        await interaction.response.edit_message(
            embed=embed, view=self.view_for(self.owner, page, pages),
            allowed_mentions=discord.AllowedMentions.none(),
        )
