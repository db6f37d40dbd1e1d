"""The first-run message: where it goes and what it says."""

from __future__ import annotations

import contextlib
import logging

import discord

from bot.permissions import labels_sentence

log = logging.getLogger(__name__)

WELCOME = (
    "Thanks for adding **GEMS**, a currency for this server with a marketplace, escrow trades, "
    "events, daily challenges and mentorship.\n\n"
    "**Admins, three steps:**\n"
    "1. `/setup`: the currency's name and emoji, the moderator role, and the channels for "
    "listings, trade rooms and the moderators' queue.\n"
    f"2. Check the bot's role: it needs {labels_sentence()} (`./gems doctor --connect` checks "
    "them), and must sit above any role it hands out.\n"
    "3. `/help` shows every command a member can run; admin commands (`/settings`, "
    "`/gems-admin`, ...) are visible only to Manage Server by default and can be re-assigned "
    "under Server Settings → Integrations → GEMS.\n\n"
    "Members start with `/gems daily` and earn by chatting."
)


def _writable_channel(guild: discord.Guild) -> discord.TextChannel | None:
    me = guild.me
    candidates = [guild.system_channel, *guild.text_channels]
    for channel in candidates:
        if channel is None:
            continue
        perms = channel.permissions_for(me)
        if perms.send_messages and perms.embed_links:
            return channel
    return None


async def send_welcome(guild: discord.Guild) -> None:
    """Post the welcome in the system channel (or the first channel the bot may write in);
    if it may write nowhere, DM the owner. Failures are logged, never raised."""
    embed = discord.Embed(title="Welcome to GEMS 💎", description=WELCOME, color=0x40C4FF)
    channel = _writable_channel(guild)
    with contextlib.suppress(discord.HTTPException):
        if channel is not None:
            await channel.send(embed=embed, allowed_mentions=discord.AllowedMentions.none())
            return
    try:
        owner = guild.owner or await guild.fetch_member(guild.owner_id)
        name = discord.utils.escape_markdown(guild.name)
        await owner.send(content=f"(I can't write in any channel of {name}.)", embed=embed,
                         allowed_mentions=discord.AllowedMentions.none())
    except discord.HTTPException:
        log.info("could not welcome guild %s (no channel, owner DMs closed)", guild.id)
