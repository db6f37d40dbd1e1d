"""Time and duration options: one grammar (economy/core/timeparse.py), previewed while typing.

Use as an option annotation:

    start: When            # a moment: `now`, `tomorrow 18:00`, `friday 9pm`, `<t:…>`, `2h`
    end: EndOrDuration     # a moment, or a duration after the `start` option (`48h`)
    duration: Duration     # a length: `90m`, `2h`, `1h30m` (MinutesDuration: `90` = minutes,
                           # HoursDuration: `48` = hours)

The autocomplete line shows what the text means in the member's zone (`/profile timezone`, else the
server's), e.g. "Fri 24 Dec 19:00 (Europe/Berlin) — in 3 days", or why it means nothing. The
option's value stays the member's text; the service reads it again with `member_zone()` so the
rules (past, too far ahead) live in one place.
"""

from __future__ import annotations

from datetime import tzinfo

import discord
from discord import app_commands

from cogs._shared.interaction import guild_id_of, services_of
from economy.core import timeparse
from economy.core.errors import InvalidInput

#: Offered while the field is empty (the member sees what each one means for them).
MOMENT_HINTS = ("now", "in 1h", "tomorrow 18:00", "friday 19:00", "sat 20:00", "3d")
DURATION_HINTS = ("30m", "1h", "90m", "2h", "1d", "1w")


async def member_zone(interaction: discord.Interaction) -> tzinfo:
    """The member's own zone (`/profile timezone`), or the server's when they never set one."""
    return await services_of(interaction).member_prefs.member_zone(
        guild_id_of(interaction), interaction.user.id)


def _choice(name: str, value: str) -> app_commands.Choice[str]:
    name = name if len(name) <= 100 else name[:99] + "…"
    return app_commands.Choice(name=name, value=value[:100])


class TimeOption(app_commands.Transformer):
    """A string option read by the time grammar; `kind` is `when`, `end` or `duration`."""

    def __init__(self, kind: str = "when", *, bare: str | None = None,
                 after: str | None = None) -> None:
        self.kind, self.bare, self.after = kind, bare, after

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.string

    @property
    def min_value(self) -> int:
        return 1

    @property
    def max_value(self) -> int:
        return 100

    async def transform(self, interaction: discord.Interaction, value: str) -> str:
        """Refuse text the grammar cannot read (a friendly InvalidInput); keep the text."""
        text = " ".join(str(value).split())
        if self.kind == "duration":
            timeparse.parse_duration(text, bare=self.bare)
        else:
            now = services_of(interaction).clock.now()
            timeparse.parse_moment(text, now, await member_zone(interaction))
        return text

    async def autocomplete(self, interaction: discord.Interaction,
                           value: str) -> list[app_commands.Choice[str]]:
        """What the typed text means, then a few examples, each shown as its meaning.

        A choice shows its name (`Fri 24 Dec 19:00 (Europe/Berlin) — in 3 days`) and sends its
        value (the text), so the service reads exactly what the member confirmed."""
        zone = await member_zone(interaction)
        now = services_of(interaction).clock.now()
        typed = " ".join(str(value).split())[:100]
        hints = DURATION_HINTS if self.kind == "duration" else MOMENT_HINTS
        texts = ([typed] if typed else []) + [h for h in hints if typed.lower() in h and h != typed]
        return [_choice(self._meaning(text, now, zone, interaction), text) for text in texts][:25]

    def _meaning(self, text: str, now, zone: tzinfo, interaction: discord.Interaction) -> str:
        if self.kind == "duration":
            return timeparse.preview(text, now, zone, duration_only=True, bare=self.bare)
        if self.kind == "end" and timeparse.is_duration(text):
            start = getattr(interaction.namespace, self.after, None) if self.after else None
            try:
                begin = timeparse.parse_moment(start, now, zone) if start else now
                return timeparse.describe(timeparse.parse_end(text, begin, now, zone), now, zone)
            except InvalidInput as error:
                return f"⚠️ {error.message}"
        return timeparse.preview(text, now, zone)


When = app_commands.Transform[str, TimeOption("when")]
EndOrDuration = app_commands.Transform[str, TimeOption("end", after="start")]
DeadlineOrDuration = app_commands.Transform[str, TimeOption("end", after="")]
Duration = app_commands.Transform[str, TimeOption("duration")]
MinutesDuration = app_commands.Transform[str, TimeOption("duration", bare="minutes")]
HoursDuration = app_commands.Transform[str, TimeOption("duration", bare="hours")]
