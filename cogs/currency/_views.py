"""Persistent pagination for the leaderboard and history."""

from __future__ import annotations

import discord

from cogs._shared.custom_ids import num
from cogs._shared.interaction import guild_id_of, services_of
from cogs._shared.paging import PageButton
from cogs.currency._render import history_embed, leaderboard_embed

PAGE_SIZE = 10


async def leaderboard_page(interaction: discord.Interaction, page: int) -> tuple[discord.Embed, int, int]:
    """Render leaderboard page `page` (clamped to the last page)."""
    services, guild_id = services_of(interaction), guild_id_of(interaction)
    settings = await services.settings.get(guild_id)
    result = await services.ledger.leaderboard(guild_id, page=page, page_size=PAGE_SIZE)
    if page > result.pages:
        result = await services.ledger.leaderboard(guild_id, page=result.pages, page_size=PAGE_SIZE)
    return leaderboard_embed(result, settings), result.pages, result.page


async def history_page(
    interaction: discord.Interaction, user_id: int, page: int
) -> tuple[discord.Embed, int, int]:
    """Render history page `page` of `user_id`."""
    services, guild_id = services_of(interaction), guild_id_of(interaction)
    settings = await services.settings.get(guild_id)
    result = await services.ledger.history(guild_id, user_id, page=page, page_size=PAGE_SIZE)
    if page > result.pages:
        result = await services.ledger.history(guild_id, user_id, page=result.pages, page_size=PAGE_SIZE)
    return history_embed(result, settings), result.pages, result.page


class LeaderboardButton(
    PageButton, template=rf"gems:lb:{num('owner')}:{num('page')}:(?P<direction>prev|next)"
):
    """Anyone may page the public leaderboard."""

    prefix = "gems:lb"

    @classmethod
    async def render(cls, interaction, owner, page):
        return await leaderboard_page(interaction, page)


class HistoryButton(
    PageButton, template=rf"gems:hist:{num('owner')}:{num('page')}:(?P<direction>prev|next)"
):
    """Only the member who asked may page their history."""

    prefix = "gems:hist"

    @classmethod
    async def render(cls, interaction, owner, page):
        return await history_page(interaction, owner, page)
