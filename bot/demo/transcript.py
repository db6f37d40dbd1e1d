"""A readable transcript of who did what and what the bot answered."""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime, tzinfo
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.demo.community import GemsCommunity
from discord_sandbox.interactions import InteractionResult
from discord_sandbox.state import Message

#: Lines of a post the bot makes on its own (announcement, DM, queue card) shown in full; longer
#: posts are cut with a count, so the transcript stays readable.
POST_LINES = 12


def relative(when: datetime, now: datetime) -> str:
    """`when` as Discord shows `<t:…:R>`, seen at `now`: `in 2 hours`, `5 minutes ago`."""
    seconds = (when - now).total_seconds()
    span = abs(seconds)
    steps = ((45, None), (90, "a minute"), (45 * 60, ("minute", 60)), (90 * 60, "an hour"),
             (22 * 3600, ("hour", 3600)), (36 * 3600, "a day"), (26 * 86400, ("day", 86400)),
             (45 * 86400, "a month"), (320 * 86400, ("month", 30 * 86400)),
             (548 * 86400, "a year"))
    words = None
    for limit, label in steps:
        if span < limit:
            if label is None:
                words = "a few seconds"
            elif isinstance(label, str):
                words = label
            else:
                words = f"{round(span / label[1])} {label[0]}s"
            break
    if words is None:
        words = f"{round(span / (365 * 86400))} years"
    return f"in {words}" if seconds > 0 else f"{words} ago"


def timestamp(when: datetime, style: str, now: datetime, zone: tzinfo = UTC) -> str:
    """Discord's `<t:unix:style>` markup as a reader in `zone` sees it (`13:05 CET`)."""
    if style == "R":
        return relative(when, now)
    formats = {"t": "%H:%M %Z", "T": "%H:%M:%S %Z", "d": "%Y-%m-%d", "D": "%-d %B %Y",
               "f": "%-d %B %Y %H:%M %Z", "F": "%A, %-d %B %Y %H:%M %Z"}
    return when.astimezone(zone).strftime(formats.get(style, formats["f"]))


class Transcript:
    """Prints actions and answers, turning raw mentions and timestamps into what a member reads.

    Besides the answers to commands and clicks, every message the bot posts on its own (channel
    announcements, queue cards, trade-room cards, DMs) is printed once, right after the action
    or the passing of time that caused it.
    """

    def __init__(self, gc: GemsCommunity, out: TextIO = sys.stdout) -> None:
        self.gc = gc
        self.out = out
        self.failures: list[str] = []
        self._seen: set[int] = set()
        #: Qualified names of the slash commands the script ran (`gems give`, ...).
        self.commands: set[str] = set()
        #: Discord shows a timestamp in the reader's time zone; the transcript uses the server's.
        self.zone: tzinfo = UTC
        self.posts(show=False)  # what existed before the script starts is not news

    def scene(self, title: str) -> None:
        """Start a new scene."""
        self.posts()
        self.out.write(f"\n━━ {title} " + "━" * max(0, 70 - len(title)) + "\n")

    def note(self, text: str) -> None:
        """A narrator's line (what changed, what to notice); plain text, no markdown."""
        self.out.write(f"   · {self._names(text).replace('**', '')}\n")

    def check(self, ok: bool, what: str) -> None:
        """Record an expectation of the script; a failed one makes the demo exit non-zero."""
        if not ok:
            self.failures.append(what)
            self.out.write(f"   ✗ expected: {what}\n")

    def act(self, who: str, what: str) -> None:
        """Narrate something a member does outside a command (fills a form, picks a role)."""
        self.posts()
        self.out.write(f"{who:>8} ▸ {self._names(what)}\n")

    async def slash(self, who: str, command: str, **options) -> InteractionResult:
        """Run and print a slash command and its answer."""
        self.commands.add(command)
        # Options go as a dict: an option may be called `name` like the sandbox's own argument.
        extra = {key: options.pop(key) for key in ("in_channel", "timeout") if key in options}
        shown = " ".join(f"{k}:{self._option(v)}" for k, v in options.items())
        where = f" (in {self._option(extra['in_channel'])})" if "in_channel" in extra else ""
        self.act(who, f"/{command} {shown}".rstrip() + where)
        result = await self.gc.sb.slash(self.gc[who], command, options, **extra)
        await self._follow_zone()
        self.answer(result)
        return result

    async def click(self, who: str, result, label: str) -> InteractionResult:
        """Click a button and print what the bot answered."""
        self.act(who, f"clicks [{label}]")
        clicked = await self.gc.click(who, result, label)
        await self._follow_zone()
        if clicked.message is not None:
            self.answer(clicked)
        elif isinstance(result, Message):
            self.message(result)  # a post whose button updated it in place
        elif result.message is not None:
            self.message(result.message)
        return clicked

    async def say(self, who: str, text: str) -> None:
        """A member chats in #general."""
        self.act(who, f"#general: {text}")
        await self.gc.say(who, text)

    async def advance(self, **units: float) -> None:
        """Time passes (jobs run); what the bot posts meanwhile is printed."""
        await self.gc.advance(**units)
        self.posts()

    async def _follow_zone(self) -> None:
        """Read the server's time zone (an admin may just have changed it)."""
        settings = await self.gc.services.settings.get(self.gc.guild.id)
        self.zone = ZoneInfo(settings.timezone)

    def answer(self, result: InteractionResult) -> None:
        """Print an interaction's visible answer."""
        for message in result.messages:
            self.message(message)
        self.posts()

    def message(self, message: Message, tag: str | None = None) -> None:
        """Print a message the bot sent."""
        self._seen.add(message.id)
        tag = tag or ("GEMS (only you)" if message.ephemeral else "GEMS")
        lines = [line for line in self._names(message.text).splitlines() if line.strip()]
        self._lines(tag, lines or ["(no text)"])
        if message.files:
            self.out.write(f"{'':>17} " + " ".join(f"📎{name}" for name in message.files) + "\n")
        if message.buttons:
            labels = [f"[{b.label}]" if not b.disabled else f"[({b.label})]" for b in message.buttons]
            self.out.write(f"{'':>17} " + " ".join(labels) + "\n")

    def posts(self, *, show: bool = True) -> None:
        """Print (once) what the bot posted on its own since the last look, oldest first."""
        world = self.gc.sb.world
        bot_id = world.bot_user.id
        fresh = sorted(
            (m for messages in world.messages.values() for m in messages.values()
             if m.id not in self._seen and not m.deleted and m.author.id == bot_id
             and not m.ephemeral and m.interaction_id is None and m.webhook_id is None),
            key=lambda m: m.id)
        for message in fresh:
            self._seen.add(message.id)
            if show:
                self._post(message)

    def _post(self, message: Message) -> None:
        channel = self.gc.sb.world.channels.get(message.channel_id)
        if channel is not None and channel.recipient is not None:
            where = f"DM to @{channel.recipient.name}"
        else:
            where = f"#{channel.name}" if channel is not None else "a channel"
        self.out.write(f"{'':>8} ✉ GEMS posts in {where}:\n" if not where.startswith("DM")
                       else f"{'':>8} ✉ GEMS sends a {where}:\n")
        lines = [line for line in self._names(message.text).splitlines() if line.strip()]
        if len(lines) > POST_LINES:
            lines = [*lines[:POST_LINES], f"… ({len(lines) - POST_LINES} more lines)"]
        self._lines("GEMS", lines or ["(an image or file)"])
        if message.buttons:
            labels = [f"[{b.label}]" if not b.disabled else f"[({b.label})]" for b in message.buttons]
            self.out.write(f"{'':>17} " + " ".join(labels) + "\n")

    def _lines(self, tag: str, lines: list[str]) -> None:
        for i, line in enumerate(lines):
            self.out.write(f"{tag:>15} ◂ {line}\n" if i == 0 else f"{'':>17} {line}\n")

    def _option(self, value) -> str:
        if hasattr(value, "filename"):
            return f"📎{value.filename}"
        if hasattr(value, "is_thread"):  # a channel or thread
            return f"#{value.name}"
        name = getattr(getattr(value, "user", value), "name", None)
        return f"@{name}" if name else str(value)

    def _names(self, text: str) -> str:
        world = self.gc.sb.world
        users = {str(m.user.id): m.user.name for m in self.gc.guild.members.values()}
        users.update({str(u.id): u.name for u in world.users.values()})

        def mention(match: re.Match[str]) -> str:
            return "@" + users.get(match.group(1), match.group(1))

        roles = {str(r.id): r.name for g in world.guilds.values() for r in g.roles.values()}
        text = re.sub(r"<@&(\d+)>", lambda m: "@" + roles.get(m.group(1), m.group(1)), text)
        text = re.sub(r"<@!?(\d+)>", mention, text)
        channels = {str(c.id): c.name for c in world.channels.values()}
        text = re.sub(r"<#(\d+)>", lambda m: "#" + channels.get(m.group(1), m.group(1)), text)
        now = self.gc.clock.now()
        text = re.sub(r"<t:(-?\d+)(?::([tTdDfFR]))?>",
                      lambda m: timestamp(datetime.fromtimestamp(int(m.group(1)), UTC),
                                          m.group(2) or "f", now, self.zone), text)
        return text.replace("\\", "")
