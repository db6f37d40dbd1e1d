"""Direct messages to members: the one function every DM goes through.

It lives in the bot package because the bot itself DMs (the response policy delivers an answer
Discord no longer accepts by DM); the cogs use it through cogs/_shared/notify.py.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.metrics import record_dm

log = logging.getLogger(__name__)

#: Text the bot sends never pings anyone.
NO_PINGS = discord.AllowedMentions.none()


async def send_dm(bot: Any, guild_id: int, user_id: int, text: str, **kwargs: Any) -> bool:
    """DM a member unless they turned bot DMs off; True when delivered."""
    if not await bot.services.members.dms_allowed(guild_id, user_id):
        record_dm(bot, "opted_out")
        return False
    try:
        user = bot.get_user(user_id) or await bot.fetch_user(user_id)
        await user.send(text, allowed_mentions=NO_PINGS, **kwargs)
    except discord.HTTPException as error:
        log.info("could not DM user %s: %s", user_id, error)
        record_dm(bot, "failed")
        return False
    record_dm(bot, "sent")
    return True
