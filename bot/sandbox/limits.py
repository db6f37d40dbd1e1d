"""Message limits Discord enforces (API v10), checked on every message the bot sends.

content <= 2,000 characters; at most 10 embeds; per embed: title <= 256, description <= 4,096,
<= 25 fields (name <= 256, value <= 1,024), footer text <= 2,048, author name <= 256; all the
text of all embeds of one message <= 6,000. A violation answers 400 Invalid Form Body (50035),
so a test fails where production would.
"""

from __future__ import annotations

from typing import Any

from .world import DiscordError


def _invalid(where: str, message: str) -> DiscordError:
    return DiscordError(400, f"Invalid Form Body ({where}: {message})", 50035)


def _check_len(value: Any, limit: int, where: str) -> int:
    text = "" if value is None else str(value)
    if len(text) > limit:
        raise _invalid(where, f"must be {limit} or fewer in length (got {len(text)})")
    return len(text)


def check_message(body: dict[str, Any]) -> None:
    """Raise what Discord answers when a message payload breaks a length or count limit."""
    _check_len(body.get("content"), 2000, "content")
    embeds = list(body.get("embeds") or [])
    if len(embeds) > 10:
        raise _invalid("embeds", "must be 10 or fewer in length")
    total = 0
    for i, embed in enumerate(embeds):
        total += _check_len(embed.get("title"), 256, f"embeds.{i}.title")
        total += _check_len(embed.get("description"), 4096, f"embeds.{i}.description")
        fields = list(embed.get("fields") or [])
        if len(fields) > 25:
            raise _invalid(f"embeds.{i}.fields", "must be 25 or fewer in length")
        for j, field in enumerate(fields):
            total += _check_len(field.get("name"), 256, f"embeds.{i}.fields.{j}.name")
            total += _check_len(field.get("value"), 1024, f"embeds.{i}.fields.{j}.value")
        total += _check_len((embed.get("footer") or {}).get("text"), 2048, f"embeds.{i}.footer.text")
        total += _check_len((embed.get("author") or {}).get("name"), 256, f"embeds.{i}.author.name")
    if total > 6000:
        raise _invalid("embeds", f"all embeds together must be 6000 or fewer characters (got {total})")
