"""/challenge leaderboard: four boards with persistent Prev/Next buttons."""

from __future__ import annotations

import discord

from cogs._shared.custom_ids import num
from cogs._shared.interaction import guild_id_of, services_of
from cogs._shared.paging import PageButton
from economy.core.models import Page
from economy.core.wording import plural

PAGE_SIZE = 10
TITLES = {"daily": "Today's challenge champions", "weekly": "This week's challenge champions",
          "all-time": "All-time challenge champions", "streaks": "Longest current challenge streaks"}
UNITS = {"streaks": "day"}


def board_embed(board: str, result: Page) -> discord.Embed:
    """One page of a leaderboard (mentions render as names and never ping)."""
    unit = UNITS.get(board)
    lines = [f"**#{rank}** <@{user_id}> · {plural(value, unit) if unit else f'{value:,} completed'}" for rank, user_id, value in result.rows]
    embed = discord.Embed(title=TITLES[board], colour=discord.Colour.gold(),
                          description="\n".join(lines) or "Nobody yet: see `/challenge today`.")
    embed.set_footer(text=f"Page {result.page}/{result.pages} · {plural(result.total, 'member')}")
    return embed


async def board_page(interaction: discord.Interaction, board: str, page: int) -> tuple[discord.Embed, int, int]:
    """Render page `page` of a board (clamped to the last page)."""
    services, guild_id = services_of(interaction), guild_id_of(interaction)
    result = await services.challenges.leaderboard(guild_id, board, page=page, page_size=PAGE_SIZE)
    if page > result.pages:
        result = await services.challenges.leaderboard(guild_id, board, page=result.pages,
                                                       page_size=PAGE_SIZE)
    return board_embed(board, result), result.pages, result.page


class DailyBoardButton(PageButton, template=rf"ch:lbd:{num('owner')}:{num('page')}:(?P<direction>prev|next)"):
    """Pages the daily board (anyone)."""

    prefix = "ch:lbd"

    @classmethod
    async def render(cls, interaction, owner, page):
        return await board_page(interaction, "daily", page)


class WeeklyBoardButton(PageButton, template=rf"ch:lbw:{num('owner')}:{num('page')}:(?P<direction>prev|next)"):
    """Pages the weekly board (anyone)."""

    prefix = "ch:lbw"

    @classmethod
    async def render(cls, interaction, owner, page):
        return await board_page(interaction, "weekly", page)


class AllTimeBoardButton(PageButton, template=rf"ch:lba:{num('owner')}:{num('page')}:(?P<direction>prev|next)"):
    """Pages the all-time board (anyone)."""

    prefix = "ch:lba"

    @classmethod
    async def render(cls, interaction, owner, page):
        return await board_page(interaction, "all-time", page)


class StreakBoardButton(PageButton, template=rf"ch:lbs:{num('owner')}:{num('page')}:(?P<direction>prev|next)"):
    """Pages the streak board (anyone)."""

    prefix = "ch:lbs"

    @classmethod
    async def render(cls, interaction, owner, page):
        return await board_page(interaction, "streaks", page)


BOARD_BUTTONS: dict[str, type[PageButton]] = {
    "daily": DailyBoardButton, "weekly": WeeklyBoardButton, "all-time": AllTimeBoardButton,
    "streaks": StreakBoardButton,
}
