"""Rendering /help pages and the restart-proof page buttons."""

from __future__ import annotations

import discord

from cogs._shared.custom_ids import num
from cogs._shared.paging import PageButton
from cogs.help._catalog import CommandInfo, catalog, runnable_by

PER_PAGE = 12
COLOR = 0x40C4FF


def visible_commands(interaction: discord.Interaction) -> list[CommandInfo]:
    """The commands the member who interacts may run here."""
    return runnable_by(catalog(interaction.client.tree), interaction.permissions,
                       interaction.guild is not None)


def overview_page(commands: list[CommandInfo], page: int) -> tuple[discord.Embed, int, int]:
    """One page of the overview; returns (embed, pages, page shown)."""
    pages = max(1, -(-len(commands) // PER_PAGE))
    page = min(max(1, page), pages)
    shown = commands[(page - 1) * PER_PAGE: page * PER_PAGE]
    embed = discord.Embed(
        title="GEMS commands you can use",
        description="\n".join(f"`{c.path}` — {c.description}" for c in shown)[:4000],
        color=COLOR)
    embed.set_footer(text=f"Page {page}/{pages} · /help command:<name> for the details")
    return embed, pages, page


def detail_embed(info: CommandInfo) -> discord.Embed:
    """One command: what it does, its options, who may run it."""
    embed = discord.Embed(title=info.path, description=info.description, color=COLOR)
    if info.options:
        embed.add_field(name="Options", inline=False, value="\n".join(
            f"`{name}`{'' if required else ' (optional)'} — {text}"
            for name, required, text in info.options)[:1024])
    embed.add_field(name="Who can run it", value=info.who, inline=False)
    return embed


class HelpPageButton(
    PageButton, template=rf"help:page:{num('owner')}:{num('page')}:(?P<direction>prev|next)"
):
    """Only the member who asked pages their own overview (it depends on their permissions)."""

    prefix = "help:page"

    @classmethod
    async def render(cls, interaction, owner, page):
        return overview_page(visible_commands(interaction), page)
