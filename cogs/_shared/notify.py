"""Direct messages and moderator-queue posts, in one place.

Every DM goes through `send_dm` (defined in bot/dm.py, since the bot's response policy DMs late
answers too, and re-exported here for the cogs): it honours `/gems dms off`, never pings, and
treats a closed DM channel as "not delivered" instead of an error.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.dm import send_dm as send_dm  # re-exported for the cogs
from cogs._shared.interaction import NO_PINGS

log = logging.getLogger(__name__)


async def resolve_channel(bot: Any, channel_id: int | None) -> Any:
    """A channel (or thread) by id from the cache or the API; None when unknown or gone."""
    if channel_id is None:
        return None
    channel = bot.get_channel(channel_id)
    if channel is None:
        try:
            channel = await bot.fetch_channel(channel_id)
        except discord.HTTPException:
            return None
    return channel


async def post_to_moderators(bot: Any, guild_id: int, text: str, **kwargs: Any) -> bool:
    """A message in the moderators' queue (dispute channel, else the listing-mod queue)."""
    settings = await bot.services.settings.get(guild_id)
    channel_id = settings.dispute_channel_id or settings.marketplace_queue_channel_id
    if channel_id is None:
        log.info("no moderators' queue channel configured in guild %s", guild_id)
        return False
    channel = await resolve_channel(bot, channel_id)
    if channel is None:
        return False
    try:
        await channel.send(text, allowed_mentions=NO_PINGS, **kwargs)
    except discord.HTTPException as error:
        log.warning("could not post to the moderators' queue of guild %s: %s", guild_id, error)
        return False
    return True
