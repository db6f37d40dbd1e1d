"""The member directory the domain asks "is this a current human member?" (economy/core/members.py),
answered from discord.py's member cache (the bot runs with the members intent and chunks its
guilds, so the cache holds every member of the guilds this process serves)."""

from __future__ import annotations

import discord


class CachedMemberDirectory:
    """`guild.get_member(id)`: present and not a bot."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    def is_human_member(self, guild_id: int, user_id: int) -> bool | None:
        """True/False from the cache; None when this process does not serve the guild (another
        shard's process) or its members are not loaded yet."""
        guild = self._client.get_guild(guild_id)
        if guild is None:
            return None
        member = guild.get_member(user_id)
        if member is None:
            return False if guild.chunked else None
        return not member.bot
