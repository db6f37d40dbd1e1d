"""Outlets: where a feature speaks on Discord, in one shape.

An outlet is a feature's Discord side effects: private rooms (a thread with a card message),
desks (posts in a configured channel), direct messages, reward roles, and the scheduled sweep
whose notices it delivers. The decisions were made by the feature's services before an outlet
runs; an outlet only talks to Discord, and a refusal from Discord is logged, never raised, so it
cannot undo what the ledger recorded.

An outlet is a command-less `commands.Cog` added by its feature's `setup(bot)`: discord.py owns
its lifetime, and other code reaches it by feature name (`outlet_of(bot, "trades")`) instead of
an attribute attached to the bot. Cogs of the same feature and cogs of other features (payments
opens a trade room) use the same lookup, so no cog imports another cog's private modules.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import discord
from discord.ext import commands

from cogs._shared.interaction import NO_PINGS
from cogs._shared.notify import resolve_channel, send_dm

log = logging.getLogger(__name__)

MISSING: Any = discord.utils.MISSING


@dataclass(frozen=True)
class Room:
    """Where an opened room ended up.

    `thread` is the private thread (None when it could not be opened); `card` is the room's card
    message, in the thread or, when the outlet asked for it, in `channel` itself; `channel` is
    the channel the room was asked for (None when the guild had no usable channel)."""

    channel: Any
    thread: discord.Thread | None
    card: discord.Message | None

    def where(self, default: str) -> str:
        """A mention of the room (the thread, else the channel the card went to), or `default`."""
        if self.thread is not None:
            return self.thread.mention
        if self.card is not None and self.channel is not None:
            return self.channel.mention
        return default


class Outlet(commands.Cog):
    """Base of a feature's outlet. Subclasses set `feature`, and `sweep_job` when the feature
    has a scheduled sweep (then they implement `sweep` and may override `register_work`)."""

    #: The feature (economy/<feature>, cogs/<feature>) this outlet speaks for.
    feature: ClassVar[str]
    #: The scheduler job that runs `sweep` (None: no sweep).
    sweep_job: ClassVar[str | None] = None
    sweep_every: ClassVar[float] = 60

    def __init__(self, bot: Any) -> None:
        self.bot = bot

    @property
    def services(self) -> Any:
        """The bot's services."""
        return self.bot.services

    async def cog_load(self) -> None:
        """Declare the guild work this outlet performs and schedule its sweep."""
        self.register_work()
        if self.sweep_job is not None:
            self.bot.jobs.add(self.sweep_job, self.sweep, every_seconds=self.sweep_every)

    # --- the sweep -------------------------------------------------------------------------
    def register_work(self) -> None:
        """Declare the kinds of guild work (sweep notices) this outlet delivers; none here."""

    async def sweep(self) -> int:
        """The scheduled job; outlets with a `sweep_job` implement it."""
        raise NotImplementedError(f"{type(self).__name__} declares a sweep job but no sweep")

    def work(self, kind: str, handler: Callable[[Any], Any], notice_type: type) -> None:
        """Register one kind of guild work for this outlet's feature."""
        self.bot.guild_work.register(kind, self.feature, handler, notice_type=notice_type)

    async def hand_over(self, kind: str, notices: Iterable[Any],
                        guild_of: Callable[[Any], int]) -> int:
        """Hand each notice to the process that owns its guild; returns how many were given.

        One notice that fails is logged and the others still go out."""
        count = 0
        for notice in notices:
            count += 1
            try:
                await self.bot.guild_work.hand_over(kind, guild_of(notice), notice)
            except Exception:
                log.exception("could not hand over %s work (%r)", kind, notice)
        return count

    # --- channels, posts and cards -----------------------------------------------------------
    async def channel(self, channel_id: int | None) -> Any:
        """A channel or thread by id (None when unknown or gone)."""
        return await resolve_channel(self.bot, channel_id)

    async def send_to(self, where: Any, content: str | None = None, *, about: str,
                      embed: discord.Embed | None = None, view: discord.ui.View | None = None,
                      files: list[discord.File] | None = None) -> discord.Message | None:
        """A message (never pinging) in a channel, given as an object or an id; None when the
        channel is gone or Discord refused. `about` names the subject for the log."""
        channel = await self.channel(where) if where is None or isinstance(where, int) else where
        if channel is None:
            return None
        try:
            return await channel.send(content, embed=embed, view=view, files=files,
                                      allowed_mentions=NO_PINGS)
        except discord.HTTPException:
            log.warning("could not post about %s", about, exc_info=True)
            return None

    async def edit_card(self, channel_id: int | None, message_id: int | None, *, about: str,
                        embed: discord.Embed = MISSING,
                        view: discord.ui.View | None = MISSING) -> bool:
        """Redraw a card message in place, found again by its stored ids (so it survives a
        restart); only what is given changes. False when it is gone or Discord refused."""
        channel = await self.channel(channel_id)
        if channel is None or message_id is None:
            return False
        try:
            await channel.get_partial_message(message_id).edit(embed=embed, view=view)
        except discord.HTTPException:
            log.warning("could not refresh the card of %s", about)
            return False
        return True

    # --- rooms -----------------------------------------------------------------------------
    def room_channel(self, guild_id: int, channel_id: int | None, *, fallback: Any = None) -> Any:
        """Where a room opens: the configured channel when the guild has it, else `fallback`,
        else the first text channel where the bot may open private threads (None if none)."""
        guild = self.bot.get_guild(guild_id)
        configured = guild.get_channel(channel_id) if guild is not None and channel_id else None
        if configured is not None:
            return configured
        if fallback is not None:
            return fallback
        return first_thread_channel(guild) if guild is not None else None

    async def open_room(self, channel: Any, *, name: str, members: Iterable[int],
                        content: str, about: str, embed: discord.Embed | None = None,
                        view: discord.ui.View | None = None, pin: bool = False,
                        card_in_channel: bool = False) -> Room:
        """Open a private thread in `channel`, add `members`, post the card (and pin it).

        When Discord refuses (no permission to open threads, a member it cannot add), the room
        is what was made before the refusal; with `card_in_channel` the card (embed and view)
        goes in the channel itself instead, so the parties still have their buttons."""
        if channel is None:
            return Room(None, None, None)
        thread: discord.Thread | None = None
        card: discord.Message | None = None
        try:
            thread = await channel.create_thread(
                name=name[:100], type=discord.ChannelType.private_thread, invitable=False)
            for user_id in members:
                await thread.add_user(discord.Object(id=user_id))
            card = await thread.send(content, embed=embed, view=view, allowed_mentions=NO_PINGS)
            if pin:
                await card.pin()
        except discord.HTTPException:
            log.warning("could not open the room of %s", about, exc_info=True)
            if card_in_channel and card is None:
                thread = None  # the card and every later post live in the channel
                card = await self.send_to(channel, about=about, embed=embed, view=view)
        return Room(channel, thread, card)

    async def close_room(self, thread_id: int | None, *, about: str, lock: bool = False) -> None:
        """Archive a room's thread (and lock it, so only moderators can reopen it)."""
        thread = await self.channel(thread_id)
        if not isinstance(thread, discord.Thread):
            return
        changes = {"locked": True, "archived": True} if lock else {"archived": True}
        try:
            await thread.edit(**changes)
        except discord.HTTPException:
            log.warning("could not %s the thread of %s", "lock" if lock else "archive", about)

    # --- members ---------------------------------------------------------------------------
    async def dm(self, guild_id: int, user_id: int, text: str, **kwargs: Any) -> bool:
        """A direct message; members who turned bot DMs off or closed their DMs are skipped
        (False)."""
        return await send_dm(self.bot, guild_id, user_id, text, **kwargs)

    async def set_role(self, guild_id: int, user_id: int, role_id: int, *, add: bool,
                       reason: str) -> bool:
        """Give or take a role (False, logged, when Discord refuses)."""
        try:
            if add:
                await self.bot.http.add_role(guild_id, user_id, role_id, reason=reason)
            else:
                await self.bot.http.remove_role(guild_id, user_id, role_id, reason=reason)
        except discord.HTTPException:
            log.warning("could not %s role %s for %s", "add" if add else "remove", role_id,
                        user_id, exc_info=True)
            return False
        return True


def first_thread_channel(guild: discord.Guild) -> discord.TextChannel | None:
    """The first text channel where the bot may open private threads and talk in them."""
    me = guild.me
    for channel in guild.text_channels:
        perms = channel.permissions_for(me)
        if perms.create_private_threads and perms.send_messages_in_threads:
            return channel
    return None


def find_outlet(bot: Any, feature: str) -> Any:
    """The outlet of `feature` (its concrete class, e.g. TradeRooms), or None when that
    feature's extension is not loaded."""
    for cog in bot.cogs.values():
        if isinstance(cog, Outlet) and cog.feature == feature:
            return cog
    return None


def outlet_of(bot: Any, feature: str) -> Any:
    """The outlet of `feature`, which must be loaded (a feature's own cogs and views)."""
    found = find_outlet(bot, feature)
    if found is None:
        raise LookupError(f"the {feature} outlet is not loaded")
    return found
