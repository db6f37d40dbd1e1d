"""/mentor guide: submit (form), review queue buttons, publication with an Upvote button, search."""

from __future__ import annotations

import io
import logging
import re

import discord
from discord import app_commands

from bot.error_handler import handle_interaction_error
from cogs._shared.custom_ids import num, parse_id
from cogs._shared.download import DownloadingCog
from cogs._shared.feature_cog import service_checked
from cogs._shared.interaction import (
    NO_PINGS,
    actor_of,
    guild_id_of,
    reply,
    safe_text,
    services_of,
)
from cogs._shared.notify import resolve_channel
from cogs._shared.outlets import outlet_of
from cogs._shared.ui import GatedModal, SafeButton
from cogs.mentorship._groups import guide as guide_group
from cogs.mentorship._groups import mentor_admin, skill_choices
from cogs.mentorship._render import COLOUR
from economy.core.errors import NotFound, NotPermitted
from economy.core.images import ImageLimits, ImageTooLarge, prepare_images
from economy.core.wording import plural
from economy.mentorship.guides import Guide
from economy.mentorship.rules import skills_of

log = logging.getLogger(__name__)
IMAGE_LIMITS = ImageLimits(max_count=1)


def guide_embed(guide: Guide) -> discord.Embed:
    """A published (or queued) guide."""
    embed = discord.Embed(title=f"📘 Guide #{guide.guide_id} · {safe_text(guide.title, limit=200)}",
                          description=safe_text(guide.body, limit=4000), colour=COLOUR)
    embed.add_field(name="By", value=f"<@{guide.author_id}>")
    embed.add_field(name="Skills", value=", ".join(guide.skills))
    embed.add_field(name="Upvotes", value=str(guide.votes))
    if guide.has_image:
        embed.set_image(url=f"attachment://{image_name(guide)}")
    return embed


def image_name(guide: Guide) -> str:
    """The file name of a guide's image in its messages."""
    return f"guide-{guide.guide_id}.jpg"


async def image_files(bot, guide: Guide) -> list[discord.File]:
    """The guide's image as an attachment (the embed points at it)."""
    data = await bot.services.guides.image(guide.guild_id, guide.guide_id) if guide.has_image else None
    return [discord.File(io.BytesIO(data), filename=image_name(guide))] if data else []


def upvote_view(guide: Guide) -> discord.ui.View:
    """The Upvote button under a published guide."""
    view = discord.ui.View(timeout=None)
    view.add_item(UpvoteButton(guide.guild_id, guide.guide_id))
    return view


def review_view(guide: Guide) -> discord.ui.View:
    """Approve / Reject in the review queue."""
    view = discord.ui.View(timeout=None)
    view.add_item(ReviewButton(guide.guild_id, guide.guide_id, "approve"))
    view.add_item(ReviewButton(guide.guild_id, guide.guide_id, "reject"))
    return view


_channel = resolve_channel


async def publish(bot, guide: Guide) -> None:
    """Post a freshly approved guide in the guides channel with its Upvote button."""
    settings = await bot.services.settings.get(guide.guild_id)
    channel = await _channel(bot, settings.guides_channel_id)
    if channel is None:
        log.info("no guides channel in guild %s", guide.guild_id)
        return
    parts = {"embed": guide_embed(guide), "view": upvote_view(guide),
             "files": await image_files(bot, guide), "allowed_mentions": NO_PINGS}
    if isinstance(channel, discord.ForumChannel):
        # In a forum each guide is its own post (a thread named after the guide).
        post = await channel.create_thread(name=guide.title[:100], **parts)
        where, message = post.thread, post.message
    else:
        where = channel
        message = await channel.send(**parts)
    await bot.services.guides.attach_message(guide.guild_id, guide.guide_id, where.id,
                                             message.id)


class ReviewButton(SafeButton, template=rf"guide:rev:{num('g')}:{num('id')}:(?P<act>approve|reject)"):
    """A mentor or moderator decides a submitted guide."""

    def __init__(self, guild_id: int, guide_id: int, action: str) -> None:
        label, style = (("Approve", discord.ButtonStyle.success) if action == "approve"
                        else ("Reject", discord.ButtonStyle.danger))
        super().__init__(discord.ui.Button(label=label, style=style,
                                           custom_id=f"guide:rev:{guild_id}:{guide_id}:{action}"))
        self.guild_id, self.guide_id, self.action = guild_id, guide_id, action

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]) -> ReviewButton:
        return cls(parse_id(match["g"]), parse_id(match["id"]), match["act"])

    async def run(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        if interaction.guild_id != self.guild_id:
            raise NotPermitted("This button belongs to another server.")
        guide, paid = await services.guides.review(
            self.guild_id, await actor_of(interaction), self.guide_id,
            approve=self.action == "approve")
        verdict = "approved ✅" if guide.status == "published" else "rejected ✖️"
        await interaction.response.edit_message(
            content=f"Guide #{guide.guide_id} was {verdict} by <@{interaction.user.id}>.",
            view=None, allowed_mentions=NO_PINGS)
        bot = interaction.client
        settings = await services.settings.get(self.guild_id)
        if guide.status == "published":
            await publish(bot, guide)
        earned = f" You earned {settings.money(paid)}." if paid else ""
        await outlet_of(bot, "mentorship").dm(
            guide.guild_id, guide.author_id, f"📘 Your guide \"{safe_text(guide.title, limit=80)}\" was "
            + ("published!" if guide.status == "published" else "not accepted this time.")
            + earned)


class UpvoteButton(SafeButton, template=rf"guide:up:{num('g')}:{num('id')}"):
    """Upvote a published guide (once each, not your own)."""

    def __init__(self, guild_id: int, guide_id: int) -> None:
        super().__init__(discord.ui.Button(label="👍 Upvote", style=discord.ButtonStyle.secondary,
                                           custom_id=f"guide:up:{guild_id}:{guide_id}"))
        self.guild_id, self.guide_id = guild_id, guide_id

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]) -> UpvoteButton:
        return cls(parse_id(match["g"]), parse_id(match["id"]))

    async def run(self, interaction: discord.Interaction) -> None:
        await vote(interaction, self.guild_id, self.guide_id)


async def vote(interaction: discord.Interaction, guild_id: int, guide_id: int) -> None:
    """Count an upvote, answer privately, refresh the published post."""
    services = services_of(interaction)
    guide, paid = await services.guides.upvote(guild_id, guide_id, interaction.user.id)
    await reply(interaction, f"👍 Thanks! Guide #{guide_id} has {guide.votes} upvote"
                f"{'s' if guide.votes != 1 else ''}.", ephemeral=True)
    stored = await services.guides.get(guild_id, guide_id)
    channel = await _channel(interaction.client, stored.channel_id)
    if channel is not None and stored.message_id:
        try:
            await channel.get_partial_message(stored.message_id).edit(embed=guide_embed(stored))
        except discord.HTTPException:
            log.warning("could not refresh guide %s", guide_id)
    if paid:
        settings = await services.settings.get(guild_id)
        await outlet_of(interaction.client, "mentorship").dm(
            guild_id, guide.author_id, f"📘 Your guide #{guide_id} reached {guide.votes} upvotes: you "
            f"earned {settings.money(paid)}.")


class GuideModal(GatedModal, title="Share a guide"):
    """Title and text of a guide (skills were checked before the form opened)."""

    guide_title = discord.ui.TextInput(label="Title", min_length=3, max_length=100)
    body = discord.ui.TextInput(label="The guide", style=discord.TextStyle.paragraph,
                                min_length=20, max_length=4000)

    def __init__(self, cog: GuideCommands, guild_id: int, skills: str,
                 image: discord.Attachment | None) -> None:
        super().__init__(timeout=None)
        self.cog, self.guild_id, self.skills, self.image = cog, guild_id, skills, image

    async def on_submit(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        image = None
        if self.image is not None:
            # Downloading and cleaning the image can take longer than Discord's 3 seconds.
            await interaction.response.defer(ephemeral=True, thinking=True)
            image = (await prepare_images([self.image.url], self.cog.fetch,
                                          allowed_hosts=interaction.client.settings.attachment_hosts,
                                          limits=IMAGE_LIMITS))[0].full
        guide = await services.guides.submit(self.guild_id, interaction.user.id,
                                             title=self.guide_title.value, body=self.body.value,
                                             skills=self.skills, image=image)
        await reply(interaction, f"📘 Thanks! Guide #{guide.guide_id} waits for a mentor or "
                    "moderator to review it.", ephemeral=True)
        settings = await services.settings.get(self.guild_id)
        queue = await _channel(interaction.client, settings.mentorship_queue_channel_id)
        if queue is not None:
            await queue.send(f"📘 New guide from <@{interaction.user.id}> to review:",
                             embed=guide_embed(guide), view=review_view(guide),
                             files=await image_files(interaction.client, guide),
                             allowed_mentions=NO_PINGS)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await handle_interaction_error(interaction, error, where="guide:submit")


class GuideCommands(DownloadingCog):
    """/mentor guide submit | search | view | upvote and /mentor-admin guides (the review
    queue); mixed into MentorshipCog so they share the /mentor groups."""

    @guide_group.command(name="submit", description="Share a guide; mentors or moderators review it")
    @app_commands.describe(skills="Skill tags, comma-separated, like: stone setting, cad",
                           image="A photo or diagram (optional)")
    async def guide_submit(self, interaction: discord.Interaction, skills: str,
                     image: discord.Attachment | None = None):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        await services.guides.check_tags(guild_id, skills)
        if image is not None and image.size > IMAGE_LIMITS.max_bytes:
            raise ImageTooLarge(f"The image can be at most {IMAGE_LIMITS.max_bytes // 2**20} MB.")
        await interaction.response.send_modal(GuideModal(self, guild_id, skills, image))

    @mentor_admin.command(name="guides", description="Mentors/moderators: guides waiting for review")
    @service_checked("moderator")
    async def guide_queue(self, interaction: discord.Interaction):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        waiting = await services.guides.pending(guild_id, await actor_of(interaction))
        if not waiting:
            await reply(interaction, "No guides are waiting for review.", ephemeral=True)
            return
        await reply(interaction, f"{plural(len(waiting), 'guide')} waiting; the oldest "
                    f"{min(len(waiting), 5)}:", ephemeral=True)
        for guide in waiting[:5]:
            await interaction.followup.send(embed=guide_embed(guide), view=review_view(guide),
                                            files=await image_files(self.bot, guide),
                                            ephemeral=True, allowed_mentions=NO_PINGS)

    @guide_group.command(name="search", description="Find published guides by words and skill")
    @app_commands.describe(query="Words to look for (all must match)", skill="Only this skill")
    async def guide_search(self, interaction: discord.Interaction, query: str | None = None,
                     skill: str | None = None):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        found = await services.guides.search(guild_id, query, skill=skill)
        lines = [f"**#{g.guide_id}** {safe_text(g.title, limit=100)} · <@{g.author_id}> · "
                 f"👍 {g.votes}" + (f" · https://discord.com/channels/{guild_id}/{g.channel_id}/"
                                   f"{g.message_id}" if g.message_id else "")
                 for g in found]
        embed = discord.Embed(title="📘 Guides", colour=COLOUR,
                              description="\n".join(lines) or "No guide matches.")
        await reply(interaction, embed=embed, ephemeral=True)

    @guide_group.command(name="view", description="Read a published guide")
    @app_commands.describe(guide_id="The guide's number")
    async def guide_view(self, interaction: discord.Interaction, guide_id: int):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        guide = await services.guides.get(guild_id, guide_id)
        if guide.status != "published" and guide.author_id != interaction.user.id:
            raise NotFound(f"There is no published guide #{guide_id}.")
        kwargs = {"view": upvote_view(guide)} if guide.status == "published" else {}
        await interaction.response.send_message(
            embed=guide_embed(guide), files=await image_files(self.bot, guide), ephemeral=True,
            allowed_mentions=NO_PINGS, **kwargs)

    @guide_group.command(name="upvote", description="Upvote a helpful guide (once; not your own)")
    @app_commands.describe(guide_id="The guide's number")
    async def guide_upvote(self, interaction: discord.Interaction, guide_id: int):
        await vote(interaction, guild_id_of(interaction), guide_id)

    @guide_search.autocomplete("skill")
    @guide_submit.autocomplete("skills")
    async def _guide_skills(self, interaction: discord.Interaction, current: str):
        settings = await services_of(interaction).settings.get(guild_id_of(interaction))
        return skill_choices(current, skills_of(settings))
