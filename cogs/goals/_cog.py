"""/goal commands and the goal announcements. Thin: parse, call one service, render."""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Literal

import discord
from discord import app_commands

from bot.render.progress_bar import render_progress
from cogs._shared.feature_cog import FeatureCog, admin_group, admin_only, member_group
from cogs._shared.interaction import (
    NO_PINGS,
    actor_of,
    guild_id_of,
    reply,
    safe_text,
    services_of,
)
from cogs._shared.time_option import DeadlineOrDuration, member_zone
from economy.core.wording import plural
from economy.goals.service import METRICS, Goal, GoalNotice

log = logging.getLogger(__name__)


def _line(goal: Goal) -> str:
    due = discord.utils.format_dt(goal.deadline, "R")
    return (f"**#{goal.goal_id}** {safe_text(goal.title, limit=100)} — {goal.progress:,}/"
            f"{goal.target:,} {METRICS[goal.metric]} ({goal.percent}%) · ends {due}")


class GoalsCog(FeatureCog):
    """Community goals."""

    goal = member_group("goal", "Community goals the whole server works towards")
    goal_admin = admin_group("goal-admin", "Community goals (admins)")

    @goal_admin.command(name="create", description="A goal the whole server works towards")
    @admin_only
    @app_commands.describe(
        target="The number to reach", metric="What counts",
        deadline="A duration like `30d`, or a time in your zone: `friday 18:00`, `2026-12-24 19:00`",
        reward="GEMS for every contributor when it is reached", title="A short title")
    async def create(self, interaction: discord.Interaction, target: int,
                     metric: Literal["gems_earned", "event_checkins"],
                     deadline: DeadlineOrDuration, reward: int,
                     title: app_commands.Range[str, 1, 100] | None = None):
        goal = await services_of(interaction).goals.create(
            guild_id_of(interaction), await actor_of(interaction), target=target, metric=metric,
            deadline=deadline, reward=reward, title=title, zone=await member_zone(interaction))
        await reply(interaction, f"Created goal {_line(goal)}", ephemeral=True)

    @goal.command(name="view", description="A goal's progress bar")
    @app_commands.describe(goal="Goal number")
    async def view(self, interaction: discord.Interaction,
                   goal: app_commands.Range[int, 1, 10**12]):
        found = await services_of(interaction).goals.view(guild_id_of(interaction), goal)
        png = await asyncio.to_thread(render_progress, found.progress, found.target,
                                      title=found.title)
        text = (f"{_line(found)}\nStatus: **{found.status}** · "
                f"{plural(found.contributors, 'contributor')} · reward {found.reward:,} each")
        await interaction.response.send_message(
            text, file=discord.File(io.BytesIO(png), filename="goal.png"), ephemeral=True,
            allowed_mentions=NO_PINGS)

    @goal.command(name="list", description="Open community goals")
    async def list_(self, interaction: discord.Interaction):
        goals = await services_of(interaction).goals.open_goals(guild_id_of(interaction))
        await reply(interaction, "\n".join(_line(g) for g in goals)[:2000] or "No open goals.",
                    ephemeral=True)

    async def sweep(self) -> int:
        """Close goals and announce each result once (job body)."""
        notices = await self.bot.services.goals.sweep()
        for notice in notices:
            try:
                await self.bot.guild_work.hand_over("goal-announce", notice.goal.guild_id, notice)
            except Exception:
                log.exception("could not announce goal %s", notice.goal.goal_id)
        return len(notices)

    async def _announce(self, notice: GoalNotice) -> None:
        goal = notice.goal
        settings = await self.bot.services.settings.get(goal.guild_id)
        channel = (self.bot.get_channel(settings.announcements_channel_id)
                   if settings.announcements_channel_id else None)
        if channel is None:
            return
        if notice.kind == "reached":
            text = (f"🏆 Goal reached: **{safe_text(goal.title, limit=100)}**! "
                    f"{plural(goal.contributors, 'contributor')} each get {settings.money(goal.reward)}.")
        else:
            text = (f"The goal **{safe_text(goal.title, limit=100)}** ended at {goal.progress:,}/"
                    f"{goal.target:,}. Next time!")
        png = await asyncio.to_thread(render_progress, goal.progress, goal.target, title=goal.title)
        await channel.send(text, file=discord.File(io.BytesIO(png), filename="goal.png"),
                           allowed_mentions=NO_PINGS)
