"""How each setting is edited by clicking or in a web form, derived from the settings
sections' field types (shared by `/settings edit`, `/setup` and the web dashboard).

No per-setting list: a field's control comes from its annotation and name.
- `int | None` named `*_channel_id` / `*_role_id`: a channel / role picker (pick none to clear);
- `list[int]` named `*_channels` / `*_roles`: a multi channel / role picker;
- `bool`: On/Off; `Literal[...]`: one of the literal's choices;
- every other field (numbers, text, comma lists): a line of text.
The one list whose choices come from elsewhere is `disabled_features` (the switchable
features, a multi select).
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from functools import cache

from economy.core.settings import describe, format_value
from economy.registry import GuildSettings, settings_sections, switchable

#: A channel setting's allowed channel types (Discord's ChannelType values): text channels
#: (threads open there), except where the feature also publishes into a forum.
TEXT, FORUM = 0, 15
CHANNEL_TYPES: dict[str, tuple[int, ...]] = {"guides_channel_id": (TEXT, FORUM)}
#: Picker kinds (a select each) and the form kind.
PICKERS = ("channel", "channels", "role", "roles", "bool", "choice", "choices")


@dataclass(frozen=True)
class SettingField:
    """One setting as a control: its key, kind, label and (for selects of text) its options."""

    key: str
    kind: str  # one of PICKERS, or "form"
    label: str
    options: tuple[tuple[str, str], ...] = ()  # (value, label) for bool/choice/choices

    @property
    def description(self) -> str:
        """The setting's help text (from the section model)."""
        return describe(self.key)

    @property
    def numeric(self) -> bool:
        """True for an integer setting (its form line says so)."""
        return GuildSettings.model_fields[self.key].annotation is int

    @property
    def required(self) -> bool:
        """True when an empty form line can never be valid (a number, a text with min_length)."""
        metadata = GuildSettings.model_fields[self.key].metadata
        return self.numeric or any(getattr(item, "min_length", 0) for item in metadata)

    @property
    def max_length(self) -> int:
        """The longest text a form line takes (the model's max_length, else 400 like /settings set)."""
        for item in GuildSettings.model_fields[self.key].metadata:
            if hasattr(item, "max_length"):
                return min(int(item.max_length), 400)
        return 400


def label_of(key: str) -> str:
    """A readable name from a key: `daily_streak_cap` -> `Daily streak cap`."""
    words = key.removesuffix("_id").replace("_", " ")
    return words[:1].upper() + words[1:]


def _kind(key: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    annotation = GuildSettings.model_fields[key].annotation
    args = typing.get_args(annotation)
    if key == "disabled_features":
        return "choices", tuple(switchable().items())
    if annotation is bool:
        return "bool", (("on", "On"), ("off", "Off"))
    if typing.get_origin(annotation) is typing.Literal:
        return "choice", tuple((str(a), str(a)) for a in args)
    if isinstance(annotation, types.UnionType) and int in args:
        if key.endswith("_channel_id"):
            return "channel", ()
        if key.endswith("_role_id"):
            return "role", ()
    if typing.get_origin(annotation) is list and args and args[0] is int:
        if key.endswith("_channels"):
            return "channels", ()
        if key.endswith("_roles"):
            return "roles", ()
    return "form", ()


@cache
def field_of(key: str) -> SettingField:
    """The control of setting `key` (KeyError for an unknown key)."""
    if key not in GuildSettings.model_fields:
        raise KeyError(key)
    kind, options = _kind(key)
    return SettingField(key, kind, label_of(key), options)


@cache
def sections() -> dict[str, tuple[str, tuple[SettingField, ...]]]:
    """Feature name -> (title, its settings as controls), in display order, core first."""
    return {name: (title, tuple(field_of(k) for k in model.model_fields))
            for name, title, model in settings_sections() if model.model_fields}


def form_text(key: str, value: typing.Any) -> str:
    """A value as an admin would type it back into a form line (lists comma-separated)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return format_value(value)
