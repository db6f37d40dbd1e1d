"""Discord's documented size limits for messages, embeds, components and modals (API v10).

The sandbox answers a payload over any limit the way Discord does — HTTP 400, code 50035
"Invalid Form Body" with the offending field — so a test fails where production would.
Sources: shared/notes/discord-emulation.md and discord/discord-api-spec.
"""

from __future__ import annotations

from typing import Any

CONTENT_MAX = 2000
EMBEDS_MAX = 10
ATTACHMENTS_MAX = 10
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_MAX = 256
EMBEDS_TOTAL_MAX = 6000
ACTION_ROWS_MAX = 5
BUTTONS_PER_ROW_MAX = 5
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
SELECT_OPTIONS_MAX = 25
SELECT_TEXT_MAX = 100
PLACEHOLDER_MAX = 150
MODAL_TITLE_MAX = 45
TEXT_INPUT_LABEL_MAX = 45
TEXT_INPUT_VALUE_MAX = 4000
CHOICES_MAX = 25

BUTTON, SELECT_TYPES, TEXT_INPUT = 2, (3, 5, 6, 7, 8), 4


class PayloadTooLarge(ValueError):
    """A payload over a Discord limit; `field` names it like Discord's error tree."""

    def __init__(self, field: str, message: str, code: str = "BASE_TYPE_MAX_LENGTH") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message
        self.code = code


def _max(value: Any, limit: int, field: str) -> int:
    length = len(value or "")
    if length > limit:
        raise PayloadTooLarge(field, f"Must be {limit} or fewer in length (got {length}).")
    return length


def check_message(body: dict[str, Any]) -> None:
    """A message create/edit body (also interaction responses, follow-ups, webhook edits)."""
    if "content" in body:
        _max(body.get("content"), CONTENT_MAX, "content")
    embeds = body.get("embeds") or []
    if len(embeds) > EMBEDS_MAX:
        raise PayloadTooLarge("embeds", f"Must be {EMBEDS_MAX} or fewer in length.")
    total = sum(_embed_length(embed, f"embeds.{i}") for i, embed in enumerate(embeds))
    if total > EMBEDS_TOTAL_MAX:
        raise PayloadTooLarge("embeds", f"Embed size exceeds maximum size of {EMBEDS_TOTAL_MAX}.")
    if len(body.get("attachments") or []) > ATTACHMENTS_MAX:
        raise PayloadTooLarge("attachments", f"Must be {ATTACHMENTS_MAX} or fewer in length.")
    check_components(body.get("components") or [])


def _embed_length(embed: dict[str, Any], where: str) -> int:
    total = _max(embed.get("title"), EMBED_TITLE_MAX, f"{where}.title")
    total += _max(embed.get("description"), EMBED_DESCRIPTION_MAX, f"{where}.description")
    fields = embed.get("fields") or []
    if len(fields) > EMBED_FIELDS_MAX:
        raise PayloadTooLarge(f"{where}.fields", f"Must be {EMBED_FIELDS_MAX} or fewer in length.")
    for i, field in enumerate(fields):
        total += _max(field.get("name"), EMBED_FIELD_NAME_MAX, f"{where}.fields.{i}.name")
        total += _max(field.get("value"), EMBED_FIELD_VALUE_MAX, f"{where}.fields.{i}.value")
    total += _max((embed.get("footer") or {}).get("text"), EMBED_FOOTER_MAX, f"{where}.footer.text")
    total += _max((embed.get("author") or {}).get("name"), EMBED_AUTHOR_MAX, f"{where}.author.name")
    return total


def check_components(rows: list[dict[str, Any]]) -> None:
    """Action rows of buttons and selects."""
    if len(rows) > ACTION_ROWS_MAX:
        raise PayloadTooLarge("components", f"Must be {ACTION_ROWS_MAX} or fewer in length.")
    for r, row in enumerate(rows):
        items = row.get("components") or []
        where = f"components.{r}.components"
        selects = [c for c in items if c.get("type") in SELECT_TYPES]
        if selects and len(items) != 1:
            raise PayloadTooLarge(where, "A select menu must be alone in its action row.")
        if len(items) > BUTTONS_PER_ROW_MAX:
            raise PayloadTooLarge(where, f"Must be {BUTTONS_PER_ROW_MAX} or fewer in length.")
        for i, item in enumerate(items):
            _check_item(item, f"{where}.{i}")


def _check_item(item: dict[str, Any], where: str) -> None:
    if "custom_id" in item:
        length = _max(item.get("custom_id"), CUSTOM_ID_MAX, f"{where}.custom_id")
        if length < 1:
            raise PayloadTooLarge(f"{where}.custom_id", "Must be 1 or more in length.")
    if item.get("type") == BUTTON:
        _max(item.get("label"), BUTTON_LABEL_MAX, f"{where}.label")
    if item.get("type") in SELECT_TYPES:
        _max(item.get("placeholder"), PLACEHOLDER_MAX, f"{where}.placeholder")
        options = item.get("options") or []
        if len(options) > SELECT_OPTIONS_MAX:
            raise PayloadTooLarge(f"{where}.options", f"Must be {SELECT_OPTIONS_MAX} or fewer in length.")
        for o, option in enumerate(options):
            for key in ("label", "value", "description"):
                _max(option.get(key), SELECT_TEXT_MAX, f"{where}.options.{o}.{key}")


def check_modal(data: dict[str, Any]) -> None:
    """A modal response: title, 1-5 rows of text inputs."""
    _max(data.get("title"), MODAL_TITLE_MAX, "data.title")
    rows = data.get("components") or []
    if not 1 <= len(rows) <= ACTION_ROWS_MAX:
        raise PayloadTooLarge("data.components", "Must be between 1 and 5 in length.")
    for r, row in enumerate(rows):
        for i, item in enumerate(row.get("components") or []):
            where = f"data.components.{r}.components.{i}"
            _max(item.get("custom_id"), CUSTOM_ID_MAX, f"{where}.custom_id")
            _max(item.get("label"), TEXT_INPUT_LABEL_MAX, f"{where}.label")
            _max(item.get("placeholder"), SELECT_TEXT_MAX, f"{where}.placeholder")
            _max(item.get("value"), TEXT_INPUT_VALUE_MAX, f"{where}.value")


def check_choices(data: dict[str, Any]) -> None:
    """An autocomplete answer: at most 25 choices, names 1-100."""
    choices = data.get("choices") or []
    if len(choices) > CHOICES_MAX:
        raise PayloadTooLarge("data.choices", f"Must be {CHOICES_MAX} or fewer in length.")
    for i, choice in enumerate(choices):
        if not 1 <= len(choice.get("name") or "") <= 100:
            raise PayloadTooLarge(f"data.choices.{i}.name", "Must be between 1 and 100 in length.")


_COMMAND_NAME = r"^[-_\w]{1,32}$"


def check_commands(commands: list[dict[str, Any]]) -> None:
    """A bulk command overwrite: names, descriptions, options and choices within Discord's limits."""
    import re

    if len(commands) > 100:
        raise PayloadTooLarge("commands", "Must be 100 or fewer in length.")

    def check(item: dict[str, Any], where: str, *, chat: bool) -> None:
        name = item.get("name") or ""
        # Context-menu (user/message) command names may hold spaces and capitals.
        valid = (re.fullmatch(_COMMAND_NAME, name) and name == name.lower()) if chat \
            else 1 <= len(name) <= 32
        if not valid:
            raise PayloadTooLarge(f"{where}.name", "Command name is invalid.")
        if chat and not 1 <= len(item.get("description") or "") <= 100:
            raise PayloadTooLarge(f"{where}.description", "Must be between 1 and 100 in length.")
        options = item.get("options") or []
        if len(options) > 25:
            raise PayloadTooLarge(f"{where}.options", "Must be 25 or fewer in length.")
        for i, option in enumerate(options):
            check(option, f"{where}.options.{i}", chat=True)
            if len(option.get("choices") or []) > CHOICES_MAX:
                raise PayloadTooLarge(f"{where}.options.{i}.choices", "Must be 25 or fewer in length.")

    for i, command in enumerate(commands):
        check(command, str(i), chat=command.get("type", 1) == 1)
