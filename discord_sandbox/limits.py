"""Discord limits that its OpenAPI spec does not express (API v10), checked by hand.

Everything the spec states (field lengths, list sizes, types, required fields, unknown fields) is
checked by :mod:`discord_sandbox.contract` against the spec itself. What is left here is what Discord
refuses although the spec allows it:

- bot message content: at most 2,000 characters (the spec's 4,000 is a Nitro user's limit);
- all text of all embeds of a message: at most 6,000 characters;
- legacy components (no ``IS_COMPONENTS_V2`` flag): at most 5 action rows (the spec's 40 counts
  every v2 component), and a select menu alone in its row;
- a modal: 1-5 top-level components (the spec says up to 40);
- a member edit: nick at most 32 characters (the spec says so, but its body is typed inline and
  the npm package's TypeScript types, which the route map is read from, drop the length);
- a bulk command overwrite: at most 100 commands; chat-input command and option names match
  ``^[-_\\p{L}\\p{N}]{1,32}$`` in lower case; chat-input descriptions 1-100 (the spec allows an
  empty one, which only context-menu commands may have).

A payload over a limit raises :class:`PayloadTooLarge`; the server answers it the way Discord does:
HTTP 400, code 50035 "Invalid Form Body" with the offending field in the ``errors`` tree.
"""

from __future__ import annotations

import re
from typing import Any

CONTENT_MAX = 2000
EMBEDS_TOTAL_MAX = 6000
ACTION_ROWS_MAX = 5
MODAL_ROWS_MAX = 5
COMMANDS_MAX = 100
NICK_MAX = 32
#: Message flag: the message uses components v2 (no action-row limit of 5).
IS_COMPONENTS_V2 = 1 << 15

SELECT_TYPES = (3, 5, 6, 7, 8)


class PayloadTooLarge(ValueError):
    """A payload over a Discord limit; `field` names it like Discord's error tree."""

    def __init__(self, field: str, message: str, code: str = "BASE_TYPE_MAX_LENGTH") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message
        self.code = code


def _text(value: Any) -> int:
    return len(value) if isinstance(value, str) else 0


def check_message(body: dict[str, Any]) -> None:
    """A message create/edit body (also interaction responses, follow-ups, webhook edits)."""
    length = _text(body.get("content"))
    if length > CONTENT_MAX:
        raise PayloadTooLarge("content", f"Must be {CONTENT_MAX} or fewer in length.")
    embeds = body.get("embeds") or []
    if sum(_embed_length(e) for e in embeds if isinstance(e, dict)) > EMBEDS_TOTAL_MAX:
        raise PayloadTooLarge("embeds", f"Embed size exceeds maximum size of {EMBEDS_TOTAL_MAX}.",
                              "MAX_EMBED_SIZE_EXCEEDED")
    flags = body.get("flags")
    if not (isinstance(flags, int) and flags & IS_COMPONENTS_V2):
        check_components(body.get("components") or [])


def _embed_length(embed: dict[str, Any]) -> int:
    total = _text(embed.get("title")) + _text(embed.get("description"))
    for field in embed.get("fields") or []:
        if isinstance(field, dict):
            total += _text(field.get("name")) + _text(field.get("value"))
    for part, key in (("footer", "text"), ("author", "name")):
        if isinstance(embed.get(part), dict):
            total += _text(embed[part].get(key))
    return total


def check_components(rows: list[Any]) -> None:
    """Legacy action rows: at most 5, and a select menu alone in its row."""
    if len(rows) > ACTION_ROWS_MAX:
        raise PayloadTooLarge("components", f"Must be {ACTION_ROWS_MAX} or fewer in length.")
    for r, row in enumerate(rows):
        items = (row.get("components") or []) if isinstance(row, dict) else []
        has_select = any(isinstance(c, dict) and c.get("type") in SELECT_TYPES for c in items)
        if has_select and len(items) != 1:
            raise PayloadTooLarge(f"components.{r}.components",
                                  "A select menu must be alone in its action row.",
                                  "COMPONENT_LAYOUT_WIDTH_EXCEEDED")


def check_modal(data: dict[str, Any]) -> None:
    """A modal response: 1-5 top-level components (rows or labels)."""
    rows = data.get("components") or []
    if not 1 <= len(rows) <= MODAL_ROWS_MAX:
        raise PayloadTooLarge("data.components", f"Must be between 1 and {MODAL_ROWS_MAX} in length.",
                              "BASE_TYPE_BAD_LENGTH")


def check_member_edit(body: dict[str, Any]) -> None:
    """``PATCH /guilds/{g}/members/{u}``: the nickname length."""
    if _text(body.get("nick")) > NICK_MAX:
        raise PayloadTooLarge("nick", f"Must be {NICK_MAX} or fewer in length.")


_COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")


def check_commands(commands: list[dict[str, Any]]) -> None:
    """A bulk command overwrite: the count, name characters and chat-input descriptions."""
    if len(commands) > COMMANDS_MAX:
        raise PayloadTooLarge("commands", f"Must be {COMMANDS_MAX} or fewer in length.")

    def check(item: dict[str, Any], where: str, *, chat: bool) -> None:
        name = item.get("name") or ""
        # Context-menu (user/message) command names may hold spaces and capitals.
        valid = (_COMMAND_NAME.fullmatch(name) and name == name.lower()) if chat \
            else 1 <= len(name) <= 32
        if not valid:
            raise PayloadTooLarge(f"{where}.name", "Command name is invalid.",
                                  "APPLICATION_COMMAND_INVALID_NAME")
        if chat and not 1 <= len(item.get("description") or "") <= 100:
            raise PayloadTooLarge(f"{where}.description", "Must be between 1 and 100 in length.",
                                  "BASE_TYPE_BAD_LENGTH")
        for i, option in enumerate(item.get("options") or []):
            check(option, f"{where}.options.{i}", chat=True)

    for i, command in enumerate(commands):
        check(command, str(i), chat=command.get("type", 1) == 1)
