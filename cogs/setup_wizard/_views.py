"""/setup's two steps and their persistent controls (custom ids carry the step and the key).

Every change goes through the settings service (the same validation and history as
`/settings set`) and re-renders the step in place. Only admins may use the controls, checked on
every click: a forged or forwarded custom id changes nothing.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.error_handler import handle_interaction_error
from cogs._shared.custom_ids import parse_id
from cogs._shared.interaction import NO_PINGS, guild_id_of, require_admin, services_of
from cogs._shared.ui import RoutedView
from economy.core.errors import InvalidInput
from economy.core.settings import GuildSettings, format_value, parse_value

COLOR = 0x40C4FF
ROLE_KEYS = {"moderator_role_id": "Moderator role", "admin_role_id": "Admin role"}
CHANNEL_KEYS = {"marketplace_channel_id": "Marketplace channel (new listings)",
                "trade_channel_id": "Trade rooms channel (private threads)",
                "dispute_channel_id": "Moderators' queue (disputes and flags)"}
MODAL_KEYS = ("currency_name", "currency_emoji", "daily_amount", "activity_amount")
# What happens while a key is unset, shown next to it.
UNSET = {"moderator_role_id": "members with Manage Messages moderate",
         "admin_role_id": "members with Manage Server administer",
         "marketplace_channel_id": "new listings are not announced",
         "trade_channel_id": "trade rooms open in the first channel the bot can use",
         "dispute_channel_id": "disputes and flags go to the listing queue channel, if any"}


def _line(settings: GuildSettings, key: str, label: str, mention: str) -> str:
    value = getattr(settings, key)
    if value is None:
        return f"⚠️ **{label}:** not set ({UNSET[key]})"
    return f"✅ **{label}:** {mention.format(value)}"


def render_step(step: int, settings: GuildSettings) -> tuple[discord.Embed, discord.ui.View]:
    """The embed and controls of step 1 (currency, roles) or 2 (channels)."""
    view = RoutedView()
    if step == 1:
        lines = [f"✅ **Currency:** {settings.currency_emoji} {settings.currency_name} · daily "
                 f"{settings.daily_amount:,} · per message {settings.activity_amount:,}"]
        lines += [_line(settings, k, label, "<@&{}>") for k, label in ROLE_KEYS.items()]
        for key, label in ROLE_KEYS.items():
            view.add_item(SetupRoleSelect(key, label))
        view.add_item(SetupButton(1, "currency", "Currency & earning…"))
        view.add_item(SetupButton(2, "goto", "Next: channels ▶", discord.ButtonStyle.primary))
        title, hint = "GEMS setup · 1/2 · currency and roles", "Pick roles below; the button sets the currency."
    else:
        lines = [_line(settings, k, label, "<#{}>") for k, label in CHANNEL_KEYS.items()]
        for key, label in CHANNEL_KEYS.items():
            view.add_item(SetupChannelSelect(key, label))
        view.add_item(SetupButton(1, "goto", "◀ Back"))
        view.add_item(SetupButton(2, "done", "Done", discord.ButtonStyle.success))
        title, hint = "GEMS setup · 2/2 · channels", "Pick a channel for each; the bot must be able to write there."
    embed = discord.Embed(title=title, description="\n".join(lines) + f"\n\n{hint}", color=COLOR)
    embed.set_footer(text="Everything here (and more) is also in /settings view.")
    return embed, view


async def _apply(interaction: discord.Interaction, changes: dict[str, str], step: int) -> None:
    """Validate every change first (nothing is stored if one is bad), store them, re-render."""
    await require_admin(interaction)
    for key, raw in changes.items():
        parse_value(key, raw)
    services, guild_id = services_of(interaction), guild_id_of(interaction)
    for key, raw in changes.items():
        await services.settings.set(guild_id, interaction.user.id, key, raw)
    embed, view = render_step(step, await services.settings.get(guild_id))
    await interaction.response.edit_message(embed=embed, view=view, allowed_mentions=NO_PINGS)


class _Safe:
    """Errors of a control reach the one error handler (a friendly ephemeral reply)."""

    async def callback(self, interaction: discord.Interaction) -> Any:
        try:
            await self.run(interaction)
        except Exception as error:
            await handle_interaction_error(interaction, error, where=type(self).__name__)


class SetupRoleSelect(_Safe, discord.ui.DynamicItem[discord.ui.RoleSelect],
                      template=r"setup:role:(?P<key>[a-z_]{1,40})"):
    """Sets a role setting of step 1."""

    def __init__(self, key: str, label: str = "") -> None:
        super().__init__(discord.ui.RoleSelect(custom_id=f"setup:role:{key}",
                                               placeholder=f"{label or key}…", max_values=1))
        self.key = key

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]):
        return cls(match["key"])

    async def run(self, interaction: discord.Interaction) -> None:
        if self.key not in ROLE_KEYS:
            raise InvalidInput("That control is not part of /setup. Run /setup again.")
        role = self.item.values[0]
        await _apply(interaction, {self.key: str(role.id)}, 1)


class SetupChannelSelect(_Safe, discord.ui.DynamicItem[discord.ui.ChannelSelect],
                         template=r"setup:chan:(?P<key>[a-z_]{1,40})"):
    """Sets a channel setting of step 2 (text channels only)."""

    def __init__(self, key: str, label: str = "") -> None:
        super().__init__(discord.ui.ChannelSelect(
            custom_id=f"setup:chan:{key}", placeholder=f"{label or key}…", max_values=1,
            channel_types=[discord.ChannelType.text]))
        self.key = key

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]):
        return cls(match["key"])

    async def run(self, interaction: discord.Interaction) -> None:
        if self.key not in CHANNEL_KEYS:
            raise InvalidInput("That control is not part of /setup. Run /setup again.")
        channel = self.item.values[0]
        await _apply(interaction, {self.key: str(channel.id)}, 2)


class SetupButton(_Safe, discord.ui.DynamicItem[discord.ui.Button],
                  template=r"setup:btn:(?P<step>[12]):(?P<action>goto|done|currency)"):
    """Moves between steps, finishes, or opens the currency form."""

    def __init__(self, step: int, action: str, label: str = "",
                 style: discord.ButtonStyle = discord.ButtonStyle.secondary) -> None:
        super().__init__(discord.ui.Button(label=label or action, style=style,
                                           custom_id=f"setup:btn:{step}:{action}"))
        self.step, self.action = step, action

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]):
        return cls(parse_id(match["step"]), match["action"])

    async def run(self, interaction: discord.Interaction) -> None:
        settings = await require_admin(interaction)
        if self.action == "currency":
            await interaction.response.send_modal(CurrencyModal(settings))
        elif self.action == "done":
            embed = discord.Embed(
                title="GEMS is set up ✅", color=COLOR,
                description="Members can start with `/gems daily` and `/help`. Change anything "
                            "later with `/setup` or `/settings set`.")
            await interaction.response.edit_message(embed=embed, view=None)
        else:
            embed, view = render_step(self.step, settings)
            await interaction.response.edit_message(embed=embed, view=view,
                                                    allowed_mentions=NO_PINGS)


class CurrencyModal(discord.ui.Modal, title="Currency and earning"):
    """Name, emoji, daily amount and GEMS per message, validated together."""

    def __init__(self, settings: GuildSettings) -> None:
        super().__init__()
        self.fields = {
            "currency_name": discord.ui.TextInput(label="Currency name", max_length=24,
                                                  default=settings.currency_name),
            "currency_emoji": discord.ui.TextInput(label="Emoji (one, e.g. 💎 or :yourgem:)",
                                                   max_length=64, default=settings.currency_emoji),
            "daily_amount": discord.ui.TextInput(label="Daily claim amount", max_length=7,
                                                 default=format_value(settings.daily_amount)),
            "activity_amount": discord.ui.TextInput(label="GEMS per chat message (0 = off)",
                                                    max_length=5,
                                                    default=format_value(settings.activity_amount)),
        }
        for field in self.fields.values():
            self.add_item(field)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        try:
            await _apply(interaction, {k: f.value for k, f in self.fields.items()}, 1)
        except Exception as error:
            await handle_interaction_error(interaction, error, where="CurrencyModal")
