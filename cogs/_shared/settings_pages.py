"""Settings you can click: the pages of `/settings edit` and the steps of `/setup`.

One renderer and one set of persistent controls serve both (mode `s`: a settings page, mode `w`:
a setup step). Every control is a `DynamicItem` whose custom id names the setting or the page
(`gset:<mode>:ch:<key>`, `gset:<mode>:go:<section>:<part>:<b|n>`...). Custom ids come back from
the client and can be forged, so every click checks again that the clicker is an admin, that the
key exists and is edited by this kind of control, that its feature is switched on, and reads
numbers with the shared parser (cogs/_shared/custom_ids.py). Every change goes through
`SettingsService.set` (the same validation and history as `/settings set`); a form is checked
whole before anything is stored, and a value equal to the current one is not stored at all.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.error_handler import handle_interaction_error
from bot.log_format import bind_interaction
from bot.permissions import channel_needs
from cogs._shared.custom_ids import num, parse_id
from cogs._shared.interaction import (
    NO_PINGS,
    actor_of,
    guild_id_of,
    require_admin,
    safe_text,
    services_of,
)
from cogs._shared.settings_fields import (
    CHANNEL_TYPES,
    TEXT,
    Part,
    SettingField,
    field_of,
    form_text,
    layout,
    part_of,
    sections,
)
from cogs._shared.ui import Gated, GatedModal, RoutedView
from economy.core.errors import InvalidInput
from economy.core.settings import GuildSettings, format_value, parse_value
from economy.registry import section_of

COLOUR = discord.Colour.from_rgb(120, 130, 150)
SETUP_COLOUR = 0x40C4FF
_KEY = r"(?P<key>[a-z][a-z0-9_]{0,47})"
_SECTION = r"(?P<section>[a-z][a-z_]{0,29})"
_MODE = r"(?P<mode>[sw])"
STALE = "That control is out of date. Run /settings edit (or /setup) again."


# -- reading the settings --------------------------------------------------------------------

def shown(key: str, value: Any, limit: int = 80) -> str:
    """A setting value for display: channels and roles as (non-pinging) mentions, on/off."""
    mention = "<#{}>" if "channel" in key else "<@&{}>"
    if key.endswith(("_channel_id", "_role_id")) and isinstance(value, int):
        return mention.format(value)
    if key.endswith(("_channels", "_roles")) and isinstance(value, list) and value:
        return ", ".join(mention.format(v) for v in value if isinstance(v, int))
    if isinstance(value, bool):
        return "on" if value else "off"
    return safe_text(format_value(value), limit=limit)


def enabled_sections(settings: GuildSettings) -> list[str]:
    """The sections an admin can edit: the core and every feature not switched off."""
    return [name for name in sections() if name == "core" or name not in settings.disabled_features]


def _check_on(settings: GuildSettings, section: str) -> None:
    if section not in sections():
        raise InvalidInput(STALE)
    if section not in enabled_sections(settings):
        title = sections()[section][0]
        raise InvalidInput(f"{title} is switched off in this server: switch it on first "
                           "(Core page, `disabled features`), then change its settings.")


def setup_steps(settings: GuildSettings) -> list[tuple[str, int]]:
    """The steps of /setup: (section, part) for every enabled feature with settings."""
    return [(name, index) for name in enabled_sections(settings)
            for index, _ in enumerate(layout(name, setup=True))]


# -- rendering -------------------------------------------------------------------------------

def _line(settings: GuildSettings, f: SettingField, number: int = 0) -> str:
    prefix = f"`{number}.` " if number else ""
    return (f"{prefix}**{f.label}:** {shown(f.key, getattr(settings, f.key))}\n"
            f"-# {safe_text(f.description, limit=150)}")


def _lines(settings: GuildSettings, here: Part) -> list[str]:
    """A line per select, then the form lines numbered as the form buttons name them."""
    lines = [_line(settings, f) for f in here.pickers]
    form_lines = [f for form in here.forms for f in form]
    return lines + [_line(settings, f, n) for n, f in enumerate(form_lines, start=1)]


def _form_buttons(mode: str, section: str, part: int, here: Part) -> list[discord.ui.Item[Any]]:
    buttons: list[discord.ui.Item[Any]] = []
    first = 1
    for index, form in enumerate(here.forms):
        last = first + len(form) - 1
        label = f"Edit {first}" if first == last else f"Edit {first}–{last}"
        buttons.append(FormButton(mode, section, part, index, label))
        first = last + 1
    return buttons


def render(settings: GuildSettings, section: str, part: int, *, setup: bool,
           notice: str = "") -> tuple[discord.Embed, discord.ui.View]:
    """The embed and controls of one page (a settings page, or a step of /setup)."""
    title, _ = sections()[section]
    parts = layout(section, setup=setup)
    part = min(max(part, 0), len(parts) - 1)
    here, mode = parts[part], "w" if setup else "s"
    view = RoutedView()
    if not setup:
        view.add_item(SectionSelect(enabled_sections(settings), section))
    for f in here.pickers:
        view.add_item(_picker(mode, f, getattr(settings, f.key)))
    forms = _form_buttons(mode, section, part, here)
    if setup:
        steps = setup_steps(settings)
        index = steps.index((section, part)) if (section, part) in steps else 0
        back = GoButton(mode, *steps[max(index - 1, 0)], "b", "◀ Back", disabled=index == 0)
        after = _next_step(settings, section, part)
        ahead = GoButton(mode, *after, "n", "Next ▶", style=discord.ButtonStyle.primary) \
            if after else DoneButton()
        buttons = [back, *forms, ahead]
        heading = f"GEMS setup · {index + 1}/{len(steps)} · {title}"
        hint = "Pick below; the buttons open forms for the numbers. Skip what you don't need."
    else:
        buttons = forms
        if len(parts) > 1:
            buttons = [GoButton(mode, section, max(part - 1, 0), "b", "◀", disabled=part == 0),
                       GoButton(mode, section, min(part + 1, len(parts) - 1), "n", "▶",
                                disabled=part == len(parts) - 1), *forms]
        heading = f"Settings · {title}" + (f" · {part + 1}/{len(parts)}" if len(parts) > 1 else "")
        hint = "Pick a page above; selects change a setting at once, the buttons open forms."
    for button in buttons:
        view.add_item(button)
    body = ("\n".join(_lines(settings, here)) or "Nothing to set here.") + f"\n\n{hint}"
    if notice:
        body = f"{notice}\n\n{body}"
    embed = discord.Embed(title=heading, description=body, colour=SETUP_COLOUR if setup else COLOUR)
    embed.set_footer(text="Every change is checked and recorded: /settings history. "
                          "Typed changes: /settings set.")
    return embed, view


def _next_step(settings: GuildSettings, section: str, part: int) -> tuple[str, int] | None:
    steps = setup_steps(settings)
    if (section, part) not in steps:
        return steps[0] if steps else None
    index = steps.index((section, part))
    return steps[index + 1] if index + 1 < len(steps) else None


def _picker(mode: str, f: SettingField, value: Any) -> discord.ui.Item[Any]:
    if f.kind in ("channel", "channels"):
        return ChannelPick(mode, f.key, value)
    if f.kind in ("role", "roles"):
        return RolePick(mode, f.key, value)
    return OptionPick(mode, f.key, value)


def _ids(value: Any) -> list[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    return [v for v in value if isinstance(v, int)] if isinstance(value, list) else []


# -- changing --------------------------------------------------------------------------------

def _describe_change(key: str, old: Any, new: Any) -> str:
    return f"**{field_of(key).label}:** {shown(key, old, 40)} → {shown(key, new, 40)}"


def missing_in(interaction: discord.Interaction, key: str, channel_ids: list[int]) -> str:
    """A warning when the bot lacks what it needs (bot/permissions.py) in a picked channel."""
    guild = interaction.guild
    if guild is None:
        return ""
    lines = []
    for channel_id in channel_ids:
        channel = guild.get_channel(channel_id)
        if channel is None:
            continue
        have = channel.permissions_for(guild.me)
        lacking = [flag for flag in channel_needs(key) if not getattr(have, flag, False)]
        if lacking:
            names = ", ".join(flag.replace("_", " ").title() for flag in lacking)
            lines.append(f"⚠️ I can't work in <#{channel_id}> yet: give my role **{names}** there.")
    return "\n".join(lines)


async def apply(interaction: discord.Interaction, changes: dict[str, str], *, setup: bool,
                warning: str = "") -> None:
    """Check the clicker and every change first (nothing is stored if one is bad), store the real
    changes through the settings service, and re-render the page that shows the first key."""
    settings = await require_admin(interaction)
    section = section_of(next(iter(changes)))
    _check_on(settings, section)
    parsed = {key: parse_value(key, raw) for key, raw in changes.items()}
    services, guild_id = services_of(interaction), guild_id_of(interaction)
    done = []
    for key, raw in changes.items():
        if parsed[key] == getattr(settings, key):
            continue  # unchanged: nothing to store or record
        old, new = await services.settings.set(guild_id, await actor_of(interaction), key, raw)
        if old != new:
            done.append(_describe_change(key, old, new))
    notice = ("✅ Saved: " + "; ".join(done)) if done else "No change."
    if warning:
        notice += "\n" + warning
    settings = await services.settings.get(guild_id)
    embed, view = render(settings, section, part_of(next(iter(changes)), setup=setup),
                         setup=setup, notice=notice)
    await interaction.response.edit_message(embed=embed, view=view, allowed_mentions=NO_PINGS)


def _field(key: str, kinds: tuple[str, ...]) -> SettingField:
    """The control of `key` if it is edited by one of `kinds` (a forged id raises InvalidInput)."""
    try:
        found = field_of(key)
    except KeyError:
        raise InvalidInput(STALE) from None
    if found.kind not in kinds:
        raise InvalidInput(STALE)
    return found


class _Safe(Gated):
    """Errors of a control reach the one error handler (a friendly ephemeral reply)."""

    async def callback(self, interaction: discord.Interaction) -> Any:
        bind_interaction(interaction)
        try:
            await self.run(interaction)  # type: ignore[attr-defined]
        except Exception as error:  # the one place that maps errors to friendly replies
            await handle_interaction_error(interaction, error, where=type(self).__name__)


# -- the controls ----------------------------------------------------------------------------

class SectionSelect(_Safe, discord.ui.DynamicItem[discord.ui.Select], template=r"gset:s:sec"):
    """Picks the settings page of a section (the core and the features switched on)."""

    def __init__(self, names: list[str] | None = None, current: str = "") -> None:
        options = [discord.SelectOption(label=sections()[n][0][:100], value=n, default=n == current)
                   for n in (names or ["core"])]
        super().__init__(discord.ui.Select(custom_id="gset:s:sec", options=options,
                                           placeholder="Settings page…"))

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]):
        return cls()

    async def run(self, interaction: discord.Interaction) -> None:
        settings = await require_admin(interaction)
        values = self.item.values
        section = values[0] if values else ""
        _check_on(settings, section)
        embed, view = render(settings, section, 0, setup=False)
        await interaction.response.edit_message(embed=embed, view=view, allowed_mentions=NO_PINGS)


class ChannelPick(_Safe, discord.ui.DynamicItem[discord.ui.ChannelSelect],
                  template=rf"gset:{_MODE}:ch:{_KEY}"):
    """Sets a channel setting (or a list of channels); picking none clears it."""

    def __init__(self, mode: str, key: str, value: Any = None) -> None:
        f = field_of(key) if key in GuildSettings.model_fields else None
        many = f is not None and f.kind == "channels"
        types = [discord.ChannelType(t) for t in CHANNEL_TYPES.get(key, (TEXT,))]
        super().__init__(discord.ui.ChannelSelect(
            custom_id=f"gset:{mode}:ch:{key}", channel_types=types, min_values=0,
            max_values=25 if many else 1, placeholder=f"{f.label if f else key}…"[:150],
            default_values=[discord.Object(i) for i in _ids(value)][:25]))
        self.mode, self.key = mode, key

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]):
        return cls(match["mode"], match["key"])

    async def run(self, interaction: discord.Interaction) -> None:
        f = _field(self.key, ("channel", "channels"))
        ids = [c.id for c in self.item.values]
        await apply(interaction, {f.key: " ".join(map(str, ids)) or "none"}, setup=self.mode == "w",
                    warning=missing_in(interaction, f.key, ids))


class RolePick(_Safe, discord.ui.DynamicItem[discord.ui.RoleSelect],
               template=rf"gset:{_MODE}:ro:{_KEY}"):
    """Sets a role setting (or a list of roles); picking none clears it."""

    def __init__(self, mode: str, key: str, value: Any = None) -> None:
        f = field_of(key) if key in GuildSettings.model_fields else None
        many = f is not None and f.kind == "roles"
        super().__init__(discord.ui.RoleSelect(
            custom_id=f"gset:{mode}:ro:{key}", min_values=0, max_values=25 if many else 1,
            placeholder=f"{f.label if f else key}…"[:150],
            default_values=[discord.Object(i) for i in _ids(value)][:25]))
        self.mode, self.key = mode, key

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]):
        return cls(match["mode"], match["key"])

    async def run(self, interaction: discord.Interaction) -> None:
        f = _field(self.key, ("role", "roles"))
        raw = " ".join(str(r.id) for r in self.item.values) or "none"
        await apply(interaction, {f.key: raw}, setup=self.mode == "w")


class OptionPick(_Safe, discord.ui.DynamicItem[discord.ui.Select],
                 template=rf"gset:{_MODE}:op:{_KEY}"):
    """On/off, one of a Literal's choices, or several choices (the feature switches)."""

    def __init__(self, mode: str, key: str, value: Any = None) -> None:
        f = field_of(key) if key in GuildSettings.model_fields else None
        chosen = set(value) if isinstance(value, list) else {"on" if value else "off"} \
            if isinstance(value, bool) else {str(value)}
        options = [discord.SelectOption(label=label[:100], value=option, default=option in chosen)
                   for option, label in (f.options if f else ())] or [discord.SelectOption(label="-")]
        many = f is not None and f.kind == "choices"
        super().__init__(discord.ui.Select(
            custom_id=f"gset:{mode}:op:{key}", options=options[:25], min_values=0 if many else 1,
            max_values=len(options[:25]) if many else 1,
            placeholder=f"{f.label if f else key}…"[:150]))
        self.mode, self.key = mode, key

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]):
        return cls(match["mode"], match["key"])

    async def run(self, interaction: discord.Interaction) -> None:
        f = _field(self.key, ("bool", "choice", "choices"))
        allowed = {option for option, _ in f.options}
        values = list(self.item.values)
        if any(v not in allowed for v in values) or (f.kind != "choices" and len(values) != 1):
            raise InvalidInput(STALE)
        await apply(interaction, {f.key: ", ".join(values) if f.kind == "choices" else values[0]},
                    setup=self.mode == "w")


class GoButton(_Safe, discord.ui.DynamicItem[discord.ui.Button],
               template=rf"gset:{_MODE}:go:{_SECTION}:{num('part')}:(?P<way>[bn])"):
    """Shows another part of a section (or another step of /setup)."""

    def __init__(self, mode: str, section: str, part: int, way: str, label: str = "",
                 *, disabled: bool = False,
                 style: discord.ButtonStyle = discord.ButtonStyle.secondary) -> None:
        super().__init__(discord.ui.Button(label=label or way, style=style, disabled=disabled,
                                           custom_id=f"gset:{mode}:go:{section}:{part}:{way}"))
        self.mode, self.section, self.part = mode, section, part

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]):
        return cls(match["mode"], match["section"], parse_id(match["part"]), match["way"])

    async def run(self, interaction: discord.Interaction) -> None:
        settings = await require_admin(interaction)
        _check_on(settings, self.section)
        setup = self.mode == "w"
        if not 0 <= self.part < len(layout(self.section, setup=setup)):
            raise InvalidInput(STALE)
        embed, view = render(settings, self.section, self.part, setup=setup)
        await interaction.response.edit_message(embed=embed, view=view, allowed_mentions=NO_PINGS)


class FormButton(_Safe, discord.ui.DynamicItem[discord.ui.Button],
                 template=rf"gset:{_MODE}:form:{_SECTION}:{num('part')}:{num('form')}"):
    """Opens the form (a modal of at most 5 lines) for a group of numbers and texts."""

    def __init__(self, mode: str, section: str, part: int, form: int, label: str = "") -> None:
        super().__init__(discord.ui.Button(label=label or "Edit", style=discord.ButtonStyle.secondary,
                                           custom_id=f"gset:{mode}:form:{section}:{part}:{form}"))
        self.mode, self.section, self.part, self.form = mode, section, part, form

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]):
        return cls(match["mode"], match["section"], parse_id(match["part"]), parse_id(match["form"]))

    async def run(self, interaction: discord.Interaction) -> None:
        settings = await require_admin(interaction)
        _check_on(settings, self.section)
        parts = layout(self.section, setup=self.mode == "w")
        if not 0 <= self.part < len(parts) or not 0 <= self.form < len(parts[self.part].forms):
            raise InvalidInput(STALE)
        fields = parts[self.part].forms[self.form]
        await interaction.response.send_modal(SettingsForm(settings, self.section, fields,
                                                           setup=self.mode == "w"))


class DoneButton(_Safe, discord.ui.DynamicItem[discord.ui.Button], template=r"gset:w:done"):
    """Ends /setup."""

    def __init__(self) -> None:
        super().__init__(discord.ui.Button(label="Done", style=discord.ButtonStyle.success,
                                           custom_id="gset:w:done"))

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]):
        return cls()

    async def run(self, interaction: discord.Interaction) -> None:
        await require_admin(interaction)
        embed = discord.Embed(
            title="GEMS is set up ✅", colour=SETUP_COLOUR,
            description="Members can start with `/gems daily` and `/help`. Change anything later "
                        "with `/settings edit` (or run `/setup` again).")
        await interaction.response.edit_message(embed=embed, view=None)


class SettingsForm(GatedModal):
    """Up to five numbers or texts of one section, checked together before any is stored."""

    def __init__(self, settings: GuildSettings, section: str, fields: tuple[SettingField, ...],
                 *, setup: bool) -> None:
        super().__init__(title=f"{sections()[section][0]}"[:45])
        self.setup = setup
        self.inputs: dict[str, discord.ui.TextInput] = {}
        for f in fields:
            text_input: discord.ui.TextInput = discord.ui.TextInput(
                label=f.label[:45], placeholder=f.description[:100],
                default=form_text(f.key, getattr(settings, f.key))[: f.max_length] or None,
                required=f.required, max_length=f.max_length)
            self.inputs[f.key] = text_input
            self.add_item(text_input)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        """Store the lines that changed (all of them checked first), then re-render the page."""
        bind_interaction(interaction)
        try:
            await apply(interaction, {key: i.value for key, i in self.inputs.items()},
                        setup=self.setup)
        except Exception as error:
            await handle_interaction_error(interaction, error, where="SettingsForm")


#: Every persistent control (registered with `bot.add_dynamic_items` by the settings cog).
DYNAMIC_ITEMS = (SectionSelect, ChannelPick, RolePick, OptionPick, GoButton, FormButton, DoneButton)
