"""Log formats: discord.py's readable lines (default) or one JSON object per line (LOG_FORMAT=json).

Every record carries the interaction, guild and user ids of the slash command being handled when
they are known: `bind_interaction` stores them in context variables at the start of the command's
task, so every log line the command causes (services, repositories) carries them.
"""

from __future__ import annotations

import contextvars
import json
import logging
from datetime import UTC, datetime
from typing import Any

_IDS: contextvars.ContextVar[dict[str, int] | None] = contextvars.ContextVar("gems_log_ids",
                                                                              default=None)
ID_FIELDS = ("interaction_id", "guild_id", "user_id")


def bind_interaction(interaction: Any) -> None:
    """Attach the interaction's ids to every log line of the current task."""
    user = getattr(interaction, "user", None)
    ids = {"interaction_id": getattr(interaction, "id", None),
           "guild_id": getattr(interaction, "guild_id", None),
           "user_id": getattr(user, "id", None)}
    _IDS.set({key: value for key, value in ids.items() if value is not None})


def current_ids() -> dict[str, int]:
    """The ids bound to the current task (empty outside a command)."""
    return dict(_IDS.get() or {})


class ContextFilter(logging.Filter):
    """Copies the bound ids onto each record (as attributes), for any formatter."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in current_ids().items():
            setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, ids, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ID_FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def use_json_logs(level: int) -> None:
    """Replace the root handlers with one stderr handler writing JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
