"""The demo transcript's rendering (times, counts) and when logs are coloured."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.demo.transcript import relative, timestamp
from bot.runtime import use_colour
from economy.core.wording import noun, plural

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("delta", "shown"), [
    (timedelta(seconds=10), "in a few seconds"), (timedelta(0), "a few seconds ago"),
    (timedelta(minutes=1), "in a minute"), (timedelta(minutes=31), "in 31 minutes"),
    (timedelta(hours=1), "in an hour"), (timedelta(hours=11), "in 11 hours"),
    (timedelta(days=1), "in a day"), (timedelta(days=7), "in 7 days"),
    (timedelta(days=30), "in a month"), (timedelta(days=-3), "3 days ago"),
    (timedelta(days=-400), "a year ago"), (timedelta(days=800), "in 2 years"),
])
def test_relative_times_read_like_discord(delta, shown):
    assert relative(NOW + delta, NOW) == shown


def test_absolute_styles():
    when = datetime(2026, 1, 6, 13, 5, tzinfo=UTC)
    assert timestamp(when, "f", NOW) == "6 January 2026 13:05 UTC"
    assert timestamp(when, "F", NOW) == "Tuesday, 6 January 2026 13:05 UTC"
    assert timestamp(when, "d", NOW) == "2026-01-06"
    assert timestamp(when, "t", NOW) == "13:05 UTC"
    assert timestamp(when, "R", NOW) == "in a day"
    assert timestamp(when, "f", NOW, ZoneInfo("Europe/Amsterdam")) == "6 January 2026 14:05 CET"


def test_plural_words():
    assert [plural(n, "day") for n in (0, 1, 2, 1250)] == ["0 days", "1 day", "2 days", "1,250 days"]
    assert plural(1, "match", "matches") == "1 match" and plural(3, "match", "matches") == "3 matches"
    assert noun(1, "day") == "day" and noun(5, "day") == "days"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_logs_are_coloured_only_on_a_terminal_without_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_colour(_Tty()) and not use_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour(_Tty())


def test_piped_logs_carry_no_escape_codes_even_in_docker(monkeypatch):
    """discord.py colours whenever it thinks it runs in Docker; a pipe or file gets plain text."""
    import logging
    import sys

    import discord.utils

    from bot.runtime import setup_logging

    monkeypatch.setattr(discord.utils, "is_docker", lambda: True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        setup_logging("INFO")
        logging.getLogger("gems.test").warning("hello")
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
    assert "hello" in piped.getvalue() and "\x1b[" not in piped.getvalue()
