"""/challenge (members) and /challenge-admin (pool management). Thin: parse, call, render."""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import timedelta
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.render.challenge_card import render_today
from cogs._shared.feature_cog import FeatureCog, admin_group, member_group, service_checked
from cogs._shared.interaction import (
    NO_PINGS,
    actor_of,
    guild_id_of,
    reply,
    safe_text,
    services_of,
)
from cogs._shared.time_option import HoursDuration
from cogs.challenges._boards import BOARD_BUTTONS, board_page
from cogs.challenges._render import (
    card_rows,
    competition_result_text,
    competition_text,
    competitions_embed,
    completion_text,
    history_embed,
    pool_embed,
    today_embed,
)
from cogs.challenges._views import AddChallengeModal, AnswerModal, gallery_view
from economy.challenges.service import Completion, may_manage
from economy.core.actor import Actor
from economy.core.errors import InvalidInput
from economy.core.images import ImageLimits, check_host, process_image
from economy.core.timeparse import parse_duration
from economy.core.wording import plural

log = logging.getLogger(__name__)
POOL_PAGE = 15
ENTRY_LIMITS = ImageLimits(max_count=1)
KIND_FIELDS = {"messages": ("activity", "messages"), "reactions": ("activity", "reactions"),
               "knowledge": ("knowledge", "answer")}


async def _today_ids(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    services = services_of(interaction)
    _, defs = await services.challenges.todays_set(guild_id_of(interaction))
    return [app_commands.Choice(name=f"{c.id} · {c.title}"[:100], value=c.id)
            for c in defs if current.lower() in c.id][:25]


def _voice_counts(member: discord.Member, state: discord.VoiceState | None) -> bool:
    """Voice minutes count for members who can hear, outside the AFK channel."""
    if state is None or state.channel is None or member.bot:
        return False
    if state.self_deaf or state.deaf:
        return False
    return state.channel != member.guild.afk_channel



def _whole_hours(duration: str) -> int:
    """A competition's duration option in whole hours (competitions run by the hour)."""
    span = parse_duration(duration, bare="hours")
    if span % timedelta(hours=1):
        raise InvalidInput("A competition runs whole hours, like `6h`, `2d` or `1w`.")
    return span // timedelta(hours=1)

class ChallengeCog(FeatureCog):
    """Members: today's set, answers, history. Chat and reactions feed progress."""

    challenge = member_group("challenge", "Daily challenges")

    def __init__(self, bot) -> None:
        super().__init__(bot)
        self.thank_menu = app_commands.ContextMenu(name="Thank helper", callback=self.thank_helper)
        self.thank_menu.guild_only = True
        bot.tree.add_command(self.thank_menu)

    async def cog_unload(self) -> None:
        """Write pending progress before the bot stops (also runs on a clean shutdown)."""
        self.bot.tree.remove_command(self.thank_menu.name, type=self.thank_menu.type)
        try:
            await self.bot.services.challenge_progress.flush()
        except Exception:
            log.exception("could not flush challenge progress on shutdown")

    @challenge.command(name="today", description="Today's challenges and your progress")
    async def today(self, interaction: discord.Interaction):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        settings = await services.settings.get(guild_id)
        user_id = interaction.user.id
        today = await services.challenges.today(
            guild_id, user_id,
            pending=lambda day: services.challenge_progress.pending_for(guild_id, day, user_id))
        embed = today_embed(today, settings)
        kwargs: dict = {"embed": embed, "ephemeral": True, "allowed_mentions": NO_PINGS}
        if today.items and interaction.app_permissions.attach_files:
            png = await asyncio.to_thread(
                render_today, f"Challenges · {today.window.key}", card_rows(today, settings),
                f"Streak: {plural(today.streak, 'day')}")
            kwargs["file"] = discord.File(io.BytesIO(png), filename="challenges.png")
            embed.set_image(url="attachment://challenges.png")
        await interaction.response.send_message(**kwargs)

    @challenge.command(name="submit", description="Answer a knowledge challenge or enter a creativity one")
    @app_commands.describe(challenge_id="The challenge id shown by /challenge today",
                           image="Creativity: your photo", caption="Creativity: one line about it")
    @app_commands.rename(challenge_id="id")
    @app_commands.autocomplete(challenge_id=_today_ids)
    async def submit(self, interaction: discord.Interaction,
                     challenge_id: app_commands.Range[str, 1, 40],
                     image: discord.Attachment | None = None,
                     caption: app_commands.Range[str, 1, 300] | None = None):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        challenge = await services.challenges.todays_challenge(guild_id, challenge_id)
        if challenge.type == "creativity":
            await self._enter(interaction, challenge.id, image, caption)
            return
        challenge = await services.challenges.answerable(guild_id, interaction.user.id, challenge_id)
        await interaction.response.send_modal(
            AnswerModal(self, challenge.id, challenge.title, challenge.description))

    async def _enter(self, interaction: discord.Interaction, challenge_id: str,
                     image: discord.Attachment | None, caption: str | None) -> None:
        """Check the photo, reserve the entry, post it in the gallery, open it for votes."""
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        if image is None:
            raise InvalidInput("Attach your photo with the `image` option (and add a `caption`).")
        check_host(image.url, self.bot.settings.attachment_hosts)
        if image.size > ENTRY_LIMITS.max_bytes:
            raise InvalidInput(f"The photo can be at most {ENTRY_LIMITS.max_bytes // 2**20} MB.")
        settings = await services.settings.get(guild_id)
        gallery = interaction.guild.get_channel(settings.challenge_gallery_channel_id or 0)
        if not isinstance(gallery, discord.TextChannel):
            raise InvalidInput("The gallery channel is missing; ask an admin to set "
                               "`challenge_gallery_channel_id` again.")
        challenge, doc = await services.challenges.start_submission(
            guild_id, interaction.user.id, challenge_id, caption)
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            photo = await asyncio.to_thread(process_image, await image.read(), ENTRY_LIMITS)
            embed = discord.Embed(title=f"🎨 {safe_text(challenge.title, limit=200)}",
                                  description=safe_text(doc["caption"], limit=400),
                                  colour=discord.Colour.orange())
            embed.set_image(url="attachment://entry.jpg")
            embed.set_footer(text=f"{challenge.target} votes or a moderator's OK completes it")
            message = await gallery.send(
                f"New entry by {interaction.user.mention}", embed=embed,
                file=discord.File(io.BytesIO(photo.full), filename="entry.jpg"),
                view=gallery_view(doc["submission_id"]), allowed_mentions=NO_PINGS)
        except BaseException:
            await services.challenges.drop_submission(doc)
            raise
        await services.challenges.publish_submission(doc, gallery.id, message.id)
        await reply(interaction, f"Your entry is in {gallery.mention}: {challenge.target} votes "
                    "from other members (or a moderator's OK) complete the challenge.",
                    ephemeral=True)

    async def vote_clicked(self, interaction: discord.Interaction, submission_id: str) -> None:
        """👍 on a gallery entry."""
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        doc, completion = await services.challenges.vote(guild_id, interaction.user.id, submission_id)
        await reply(interaction, f"Vote counted ({doc['votes']}/{doc['target']}).", ephemeral=True)
        await self._announce_entry(interaction, doc, completion)

    async def accept_clicked(self, interaction: discord.Interaction, submission_id: str) -> None:
        """✅ by a moderator on a gallery entry."""
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        doc, completion = await services.challenges.accept(guild_id, await actor_of(interaction),
                                                           submission_id)
        await reply(interaction, "Entry accepted.", ephemeral=True)
        await self._announce_entry(interaction, doc, completion)

    async def _announce_entry(self, interaction: discord.Interaction, doc: dict,
                              completion: Completion | None) -> None:
        if completion is None or interaction.channel is None:
            return
        settings = await services_of(interaction).settings.get(guild_id_of(interaction))
        await interaction.channel.send(f"<@{doc['user_id']}>: " + completion_text(completion, settings),
                                       allowed_mentions=NO_PINGS)

    async def answer_from_modal(self, interaction: discord.Interaction, challenge_id: str,
                                text: str) -> None:
        """Check a submitted answer (the day is checked again: a modal may outlive it)."""
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        settings = await services.settings.get(guild_id)
        result = await services.challenges.answer(guild_id, interaction.user.id, challenge_id, text)
        if result.completion is not None:
            await reply(interaction, completion_text(result.completion, settings), ephemeral=True)
        elif result.correct:
            await reply(interaction, "Correct, but this challenge was already completed.", ephemeral=True)
        else:
            await reply(interaction, f"Not quite. {plural(result.attempts_left, 'attempt')} left.",
                        ephemeral=True)

    @challenge.command(name="history", description="Your completed challenges and streak")
    @app_commands.describe(page="Page number (10 per page)")
    async def history(self, interaction: discord.Interaction,
                      page: app_commands.Range[int, 1, 100_000] = 1):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        settings = await services.settings.get(guild_id)
        found = await services.challenges.history(guild_id, interaction.user.id, page=page)
        streak = await services.challenges.current_streak(guild_id, interaction.user.id)
        await reply(interaction, embed=history_embed(found, settings, streak), ephemeral=True)

    async def thank_helper(self, interaction: discord.Interaction, member: discord.Member) -> None:
        """Right-click a member > Apps > Thank helper: counts toward community challenges."""
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        settings = await services.settings.get(guild_id)
        done, counted = await services.challenges.thank(
            guild_id, interaction.user.id, member.id, helper_is_bot=member.bot)
        text = f"🤝 {interaction.user.mention} thanked {member.mention} for their help."
        if not counted:
            text += " (No community challenge today, but thanks are always welcome.)"
        for completion in done:
            text += f"\n{member.mention}: " + completion_text(completion, settings)
        await reply(interaction, text)

    @challenge.command(name="competitions", description="Running and recent challenge competitions")
    @app_commands.describe(number="Show one competition's standings")
    async def competitions(self, interaction: discord.Interaction,
                           number: app_commands.Range[int, 1, 1_000_000] | None = None):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        settings = await services.settings.get(guild_id)
        docs = ([await services.competitions.get(guild_id, number)] if number
                else await services.competitions.recent(guild_id))
        rows = [(doc, await services.competitions.standings(doc, limit=5)) for doc in docs]
        await reply(interaction, embed=competitions_embed(rows, settings), ephemeral=True)

    @challenge.command(name="leaderboard", description="Challenge leaderboards")
    @app_commands.describe(board="Which board", page="Page number (10 members per page)")
    async def leaderboard(self, interaction: discord.Interaction,
                          board: Literal["daily", "weekly", "all-time", "streaks"] = "weekly",
                          page: app_commands.Range[int, 1, 100_000] = 1):
        embed, pages, shown = await board_page(interaction, board, page)
        await reply(interaction, embed=embed, view=BOARD_BUTTONS[board].view_for(0, shown, pages))

    # --- events feeding progress -------------------------------------------------------------
    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Chat counts toward today's message challenges (coalesced in memory)."""
        if message.guild is None or not isinstance(message.author, discord.Member):
            return
        services = self.bot.services
        await services.challenge_progress.record_message(
            message.guild.id, message.author.id, message.channel.id, message.content,
            author_is_bot=message.author.bot, at=services.clock.now())

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        """A reaction given counts toward today's reaction challenges."""
        if payload.guild_id is None:
            return
        member = payload.member
        services = self.bot.services
        await services.challenge_progress.record_reaction(
            payload.guild_id, payload.user_id, payload.channel_id,
            author_is_bot=bool(member and member.bot),
            own_message=payload.message_author_id == payload.user_id,
            at=services.clock.now())

    @commands.Cog.listener()
    async def on_voice_state_update(self, member: discord.Member, before: discord.VoiceState,
                                    after: discord.VoiceState) -> None:
        """Minutes in voice count toward today's voice challenges."""
        services = self.bot.services
        channel = after.channel
        await services.challenge_progress.voice_update(
            member.guild.id, member.id, channel.id if channel else None,
            counts=_voice_counts(member, after), at=services.clock.now())

    @commands.Cog.listener("on_guild_join")
    @commands.Cog.listener("on_guild_available")
    async def count_voice_on_arrival(self, guild: discord.Guild) -> None:
        """When a guild arrives (each one at a connect, one back from an outage, or a new one),
        count the members who are already in its voice channels."""
        services = self.bot.services
        now = services.clock.now()
        for channel in guild.voice_channels:
            for member in channel.members:
                await services.challenge_progress.voice_update(
                    guild.id, member.id, channel.id, counts=_voice_counts(member, member.voice),
                    at=now)

    # --- jobs --------------------------------------------------------------------------------
    async def sweep(self) -> None:
        """Draw/complete/settle for every guild, then announce new days where configured."""
        guilds = await self.bot.guild_work.local_guilds("challenges")
        services = self.bot.services
        await services.challenge_progress.sweep([guild.id for guild in guilds])
        for guild in guilds:
            settings = await services.settings.get(guild.id)
            channel = guild.get_channel(settings.challenge_channel_id or 0)
            try:
                settled = await services.competitions.settle_due(guild.id)
            except Exception:
                log.exception("settling competitions failed for guild %s", guild.id)
                settled = []
            if not isinstance(channel, discord.TextChannel):
                continue
            for done in settled:
                await channel.send(competition_result_text(done, settings), allowed_mentions=NO_PINGS)
            claimed = await services.challenges.claim_announcement(guild.id)
            if claimed is None:
                continue
            window, defs = claimed
            lines = [f"• **{safe_text(c.title, limit=80)}** ({c.type}, {c.difficulty}) · "
                     f"{settings.money(c.reward)} · `{c.id}`" for c in defs]
            await channel.send(
                f"🌅 New daily challenges for {window.key}:\n" + "\n".join(lines)
                + "\nSee your progress with `/challenge today`.", allowed_mentions=NO_PINGS)


class ChallengeAdminCog(FeatureCog):
    """Admins and challenge managers: add, list and retire challenges (the service decides who
    manages: admins or the challenge manager role)."""

    admin = admin_group("challenge-admin", "Manage the challenge pool")

    @staticmethod
    async def _actor(interaction: discord.Interaction) -> Actor:
        return await actor_of(interaction)

    @admin.command(name="add", description="Add a custom challenge (a form asks for its texts)")
    @service_checked("admin")
    @app_commands.describe(kind="What the member does", difficulty="How hard it is",
                           reward="GEMS paid on completion",
                           channel="Activity only: count only this channel")
    async def add(self, interaction: discord.Interaction,
                  kind: Literal["messages", "reactions", "knowledge"],
                  difficulty: Literal["easy", "medium", "hard"],
                  reward: app_commands.Range[int, 1, 100_000],
                  channel: discord.TextChannel | None = None):
        actor = await self._actor(interaction)
        settings = await services_of(interaction).settings.get(guild_id_of(interaction))
        may_manage(actor, settings, guild_id_of(interaction))  # fail before the form, the service checks again
        ctype, metric = KIND_FIELDS[kind]
        options = {"type": ctype, "metric": metric, "difficulty": difficulty, "reward": reward,
                   "channels": [channel.id] if channel and ctype == "activity" else []}
        await interaction.response.send_modal(AddChallengeModal(self, options))

    async def add_from_modal(self, interaction: discord.Interaction, modal: AddChallengeModal) -> None:
        """Create the challenge from the form."""
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        fields = dict(modal.options, title=modal.challenge_title.value,
                      description=modal.description.value, answers_text=modal.answers.value)
        if fields["type"] != "knowledge":
            raw = (modal.target.value or "").strip()
            if not raw.isdigit():
                raise InvalidInput("The target must be a whole number of at least 1, like 10.")
            fields["target"] = int(raw)
        made = await services.challenges.add_custom(guild_id, await self._actor(interaction), fields)
        await reply(interaction, f"Added challenge `{made.id}`: **{safe_text(made.title)}** "
                    f"({made.type}, {made.difficulty}). It can be drawn from tomorrow.",
                    ephemeral=True)

    @admin.command(name="competition", description="Start a timed contest over a challenge type")
    @service_checked("admin")
    @app_commands.describe(kind="Which challenges count", mode="most completions, or first to reach a target",
                           duration="How long it runs: `6h`, `2d`, `1w` (a plain number is hours)",
                           prize="GEMS for each winner",
                           places="How many winners (1-3)", target="first mode: completions to reach")
    async def competition(self, interaction: discord.Interaction,
                          kind: Literal["any", "activity", "knowledge", "creativity", "community"],
                          mode: Literal["most", "first"],
                          duration: HoursDuration,
                          prize: app_commands.Range[int, 1, 1_000_000],
                          places: app_commands.Range[int, 1, 3] = 1,
                          target: app_commands.Range[int, 1, 100] | None = None):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        settings = await services.settings.get(guild_id)
        doc = await services.competitions.create(
            guild_id, await self._actor(interaction), kind=kind, mode=mode,
            hours=_whole_hours(duration),
            prize=prize, places=places, target=target)
        await reply(interaction, competition_text(doc, settings))

    @admin.command(name="pool", description="List the challenges this server can draw")
    @service_checked("admin")
    @app_commands.describe(page="Page number (15 per page)")
    async def pool(self, interaction: discord.Interaction,
                   page: app_commands.Range[int, 1, 1000] = 1):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        actor = await self._actor(interaction)
        settings = await services.settings.get(guild_id)
        may_manage(actor, settings, guild_id_of(interaction))
        rows = list((await services.challenges.pool(guild_id)).values())
        pages = max(1, -(-len(rows) // POOL_PAGE))
        page = min(page, pages)
        shown = rows[(page - 1) * POOL_PAGE: page * POOL_PAGE]
        await reply(interaction, embed=pool_embed(shown, page, pages, settings), ephemeral=True)

    @admin.command(name="retire", description="Take a challenge out of future draws")
    @service_checked("admin")
    @app_commands.describe(challenge_id="The challenge id (see /challenge-admin pool)")
    @app_commands.rename(challenge_id="id")
    async def retire(self, interaction: discord.Interaction,
                     challenge_id: app_commands.Range[str, 1, 40]):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        gone = await services.challenges.retire(guild_id, await self._actor(interaction), challenge_id)
        await reply(interaction, f"Retired `{gone.id}` (**{safe_text(gone.title)}**); it will not "
                    "be drawn again.", ephemeral=True)
