"""A readable transcript of who did what and what the bot answered."""

from __future__ import annotations

import re
import sys
from typing import TextIO

from bot.demo.community import GemsCommunity
from discord_sandbox.interactions import InteractionResult
from discord_sandbox.state import Message


class Transcript:
    """Prints actions and answers, turning raw mentions into names."""

    def __init__(self, gc: GemsCommunity, out: TextIO = sys.stdout) -> None:
        self.gc = gc
        self.out = out
        self.failures: list[str] = []

    def scene(self, title: str) -> None:
        """Start a new scene."""
        self.out.write(f"\n━━ {title} " + "━" * max(0, 70 - len(title)) + "\n")

    def note(self, text: str) -> None:
        """A narrator's line (what changed, what to notice)."""
        self.out.write(f"   · {self._names(text)}\n")

    def check(self, ok: bool, what: str) -> None:
        """Record an expectation of the script; a failed one makes the demo exit non-zero."""
        if not ok:
            self.failures.append(what)
            self.out.write(f"   ✗ expected: {what}\n")

    async def slash(self, who: str, command: str, **options) -> InteractionResult:
        """Run and print a slash command and its answer."""
        shown = " ".join(f"{k}:{self._option(v)}" for k, v in options.items())
        self.out.write(f"{who:>8} ▸ /{command} {shown}\n")
        result = await self.gc.slash(who, command, **options)
        self.answer(result)
        return result

    async def click(self, who: str, result, label: str) -> InteractionResult:
        """Click a button and print what the bot answered."""
        self.out.write(f"{who:>8} ▸ clicks [{label}]\n")
        clicked = await self.gc.click(who, result, label)
        if clicked.message is not None:
            self.answer(clicked)
        elif result.message is not None:
            self.message(result.message)
        return clicked

    async def say(self, who: str, text: str) -> None:
        """A member chats in #general."""
        self.out.write(f"{who:>8} ▸ #general: {text}\n")
        await self.gc.say(who, text)

    def answer(self, result: InteractionResult) -> None:
        """Print an interaction's visible answer."""
        for message in result.messages:
            self.message(message)

    def message(self, message: Message) -> None:
        """Print a message the bot sent."""
        tag = "GEMS (only you)" if message.ephemeral else "GEMS"
        lines = [line for line in self._names(message.text).splitlines() if line.strip()]
        for i, line in enumerate(lines or ["(no text)"]):
            self.out.write(f"{tag if i == 0 else '':>15} ◂ {line}\n" if i == 0 else f"{'':>17} {line}\n")
        if message.buttons:
            labels = [f"[{b.label}]" if not b.disabled else f"[({b.label})]" for b in message.buttons]
            self.out.write(f"{'':>17} " + " ".join(labels) + "\n")

    def _option(self, value) -> str:
        if hasattr(value, "filename"):
            return f"📎{value.filename}"
        name = getattr(getattr(value, "user", value), "name", None)
        return f"@{name}" if name else str(value)

    def _names(self, text: str) -> str:
        users = {str(m.user.id): m.user.name for m in self.gc.guild.members.values()}

        def mention(match: re.Match[str]) -> str:
            return "@" + users.get(match.group(1), match.group(1))

        text = re.sub(r"<@!?(\d+)>", mention, text)
        channels = {str(c.id): c.name for c in self.gc.sb.world.channels.values()}
        text = re.sub(r"<#(\d+)>", lambda m: "#" + channels.get(m.group(1), m.group(1)), text)
        text = re.sub(r"<t:(\d+):[a-zA-Z]>", "(a time)", text)
        return text.replace("\\", "")
