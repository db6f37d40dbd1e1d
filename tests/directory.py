"""A member directory for domain tests (the bot answers from discord.py's member cache)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FakeDirectory:
    """Every positive id is a current human member, except `bots` and `gone` (left the guild);
    guilds in `unknown` can't be answered (not served by this process)."""

    bots: set[int] = field(default_factory=set)
    gone: set[int] = field(default_factory=set)
    unknown: set[int] = field(default_factory=set)

    def is_human_member(self, guild_id: int, user_id: int) -> bool | None:
        """As the bot's cache would answer."""
        if guild_id in self.unknown:
            return None
        return user_id > 0 and user_id not in self.bots and user_id not in self.gone


def install(services, **options) -> FakeDirectory:
    """Give `services` a fake directory and return it."""
    directory = FakeDirectory(**options)
    services.members.use_directory(directory)
    return directory
