"""The feature cog base and the command grammar (ARCHITECTURE.md §6, "One grammar").

Every feature has one member group named after what members call it (`/market`, `/mentor`)
and at most one staff group `/<name>-admin`, hidden from members by `default_permissions`:
Manage Server for admin tools, Manage Messages when the group also holds moderator tools
(Discord gives a root command one default permission, so a group with moderator tools must be
visible to moderators; its admin-only subcommands say "Admin:" and are checked here and in the
service). `member_group` / `admin_group` build those groups; `admin_only` / `moderator_only` mark
a staff subcommand and check who may run it before its body runs (the service checks again).

Switched-off features stay refused by `bot/modules_gate.py`: one place for slash commands,
autocomplete, buttons, selects and modals, reached through the command tree's check
(`GemsTree`) and the `Gated` bases of cogs/_shared/ui.py. A cog `interaction_check` cannot
replace it, since discord.py runs it neither for autocomplete nor for components and modals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from cogs._shared.interaction import require_admin, require_moderator, services_of
from economy.core.errors import GemsError

if TYPE_CHECKING:
    from bot.app import GemsBot
    from economy.core.settings import GuildSettings
    from economy.services import Services

ADMIN_PERMISSIONS = discord.Permissions(manage_guild=True)
MODERATOR_PERMISSIONS = discord.Permissions(manage_messages=True)
STAFF_SUFFIX = "-admin"

#: Who may run a staff subcommand, as stored on its callback by `admin_only`/`moderator_only`.
Staff = Literal["admin", "moderator"]
STAFF_ATTRIBUTE = "__gems_staff__"

T = TypeVar("T")


def member_group(name: str, description: str) -> app_commands.Group:
    """A feature's member group (`/gems`, `/market`): visible to everyone in the server."""
    if name.endswith(STAFF_SUFFIX):
        raise ValueError(f"member group {name!r} must not end with {STAFF_SUFFIX!r}")
    return app_commands.Group(name=name, description=description, guild_only=True)


def admin_group(name: str, description: str, *, moderators: bool = False) -> app_commands.Group:
    """A feature's staff group `/<name>-admin`, hidden by default permissions: Manage Server, or
    Manage Messages when it holds moderator tools (`moderators=True`)."""
    if not name.endswith(STAFF_SUFFIX):
        raise ValueError(f"staff group {name!r} must end with {STAFF_SUFFIX!r}")
    return app_commands.Group(
        name=name, description=description, guild_only=True,
        default_permissions=MODERATOR_PERMISSIONS if moderators else ADMIN_PERMISSIONS)


class StaffOnly(app_commands.CheckFailure):
    """A staff check refused the member; `__cause__` is the domain error with the message."""


def staff_of(command: app_commands.Command) -> Staff | None:
    """`admin`/`moderator` for a subcommand marked by `admin_only`/`moderator_only`, else None."""
    return getattr(command.callback, STAFF_ATTRIBUTE, None)


def _staff_check(level: Staff, require) -> Callable[[T], T]:
    async def predicate(interaction: discord.Interaction) -> bool:
        try:
            # Kept for the body (`settings_of`): the check already read the guild's settings.
            interaction.extras["settings"] = await require(interaction)
        except GemsError as error:
            raise StaffOnly(error.message) from error
        return True

    def decorate(func: T) -> T:
        target = func.callback if isinstance(func, app_commands.Command) else func
        setattr(target, STAFF_ATTRIBUTE, level)
        return app_commands.check(predicate)(func)

    return decorate


#: Mark an admin subcommand: refused (friendly, ephemeral) unless the member is an admin.
admin_only = _staff_check("admin", require_admin)
#: Mark a moderator subcommand: refused unless the member is a moderator (or an admin).
moderator_only = _staff_check("moderator", require_moderator)


def service_checked(level: Staff) -> Callable[[T], T]:
    """Mark a staff subcommand whose authority is a role the service checks (e.g. challenge or
    event managers, mentorship leads): no check here, so those roles are not refused early."""
    def decorate(func: T) -> T:
        target = func.callback if isinstance(func, app_commands.Command) else func
        setattr(target, STAFF_ATTRIBUTE, level)
        return func
    return decorate


async def settings_of(interaction: discord.Interaction) -> GuildSettings:
    """The guild's settings: the ones a staff check just read, else read now (cached)."""
    found = interaction.extras.get("settings")
    if found is not None:
        return found
    return await services_of(interaction).settings.get(interaction.guild_id or 0)


class FeatureCog(commands.Cog):
    """Base of the feature cogs: the bot (typed), the services and the feature's name.

    The feature is the `cogs/<feature>/` package, the same name as `economy/<feature>/` and the
    module switch (`/settings modules`). Declare the groups with `member_group`/`admin_group`.
    """

    feature: str = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        parts = cls.__module__.split(".")
        if not cls.__dict__.get("feature"):
            cls.feature = parts[1] if len(parts) > 1 and parts[0] == "cogs" else parts[-1]

    def __init__(self, bot: GemsBot) -> None:
        self.bot = bot

    @property
    def services(self) -> Services:
        """The services the bot was started with."""
        return self.bot.services
