"""/settings commands: edit (pages you click), view, set (validated, recorded), history."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from cogs._shared.interaction import (
    actor_of,
    guild_id_of,
    reply,
    require_admin,
    safe_text,
    services_of,
)
from cogs._shared.settings_fields import sections
from cogs._shared.settings_pages import enabled_sections, render, shown
from economy.core.errors import InvalidInput
from economy.core.settings import SETTING_KEYS, GuildSettings, describe

COLOUR = discord.Colour.from_rgb(120, 130, 150)
PAGE_CHARS = 3800  # an embed description holds 4,096 characters


def pack_pages(lines: list[str], budget: int) -> list[str]:
    """Join lines into pages of at most `budget` characters, never splitting a line."""
    pages: list[list[str]] = [[]]
    size = 0
    for line in lines:
        if pages[-1] and size + len(line) + 1 > budget:
            pages.append([])
            size = 0
        pages[-1].append(line)
        size += len(line) + 1
    return ["\n".join(page) for page in pages]


def _shown(key: str, value, limit: int) -> str:
    """A setting value for display: mentions for channels and roles, on/off for switches."""
    return shown(key, value, limit)


class SettingsCog(commands.Cog):
    """Per-guild configuration for admins (Manage Server or the configured admin role)."""

    group = app_commands.Group(name="settings", description="Server settings for GEMS", guild_only=True,
                               default_permissions=discord.Permissions(manage_guild=True))

    def __init__(self, bot) -> None:
        self.bot = bot

    @group.command(name="view", description="Show the settings and their values, a page at a time")
    @app_commands.describe(page="Page number (the footer says how many there are)",
                           search="Only settings whose name contains this, e.g. escrow")
    async def view(self, interaction: discord.Interaction,
                   page: app_commands.Range[int, 1, 100] = 1,
                   search: app_commands.Range[str, 1, 40] | None = None):
        settings = await require_admin(interaction)
        defaults = GuildSettings()
        lines = []
        needle = (search or "").strip().lower()
        for key in SETTING_KEYS:
            if needle and needle not in key:
                continue
            value = getattr(settings, key)
            marker = "" if value == getattr(defaults, key) else " *(changed)*"
            lines.append(f"`{key}` = **{_shown(key, value, 80)}**{marker}\n"
                         f"-# {describe(key)}")
        if not lines:
            raise InvalidInput(f"No setting name contains `{safe_text(needle, limit=40)}`.")
        pages = pack_pages(lines, PAGE_CHARS)
        page = min(page, len(pages))
        embed = discord.Embed(title="GEMS settings", description=pages[page - 1], colour=COLOUR)
        embed.set_footer(text=f"Page {page}/{len(pages)} · /settings view page:N (or search:) · "
                              "change one with /settings set key value or /settings edit")
        await reply(interaction, embed=embed, ephemeral=True)

    @group.command(name="edit", description="Change settings by clicking: a page per feature")
    @app_commands.describe(page="The page to open (default: the core)")
    async def edit(self, interaction: discord.Interaction, page: str | None = None):
        settings = await require_admin(interaction)
        names = enabled_sections(settings)
        if page is not None and page not in names:
            raise InvalidInput(f"There is no settings page `{safe_text(page, limit=40)}` "
                               "(a switched-off feature has none): pick one from the list.")
        embed, view = render(settings, page or names[0], 0, setup=False)
        await reply(interaction, embed=embed, view=view, ephemeral=True)

    @edit.autocomplete("page")
    async def _page_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        settings = await services_of(interaction).settings.get(guild_id_of(interaction))
        current = current.lower().strip()
        return [app_commands.Choice(name=sections()[name][0], value=name)
                for name in enabled_sections(settings)
                if current in name or current in sections()[name][0].lower()][:25]

    @group.command(name="set", description="Change one setting")
    @app_commands.describe(key="The setting to change", value="The new value (`none` clears ids)")
    async def set_(
        self, interaction: discord.Interaction, key: str, value: app_commands.Range[str, 1, 400]
    ):
        await require_admin(interaction)
        services = services_of(interaction)
        old, new = await services.settings.set(guild_id_of(interaction),
                                               await actor_of(interaction), key, value)
        if old == new:  # nothing was written or recorded
            await reply(interaction, f"`{key}` is already **{_shown(key, new, 80)}**; nothing changed.",
                        ephemeral=True)
            return
        await reply(
            interaction,
            f"`{key}`: **{_shown(key, old, 80)}** → "
            f"**{_shown(key, new, 80)}**",
            ephemeral=True,
        )

    @set_.autocomplete("key")
    async def _key_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        current = current.lower().strip()
        matches = [k for k in SETTING_KEYS if current in k or current in describe(k).lower()]
        return [
            app_commands.Choice(name=f"{k} — {describe(k)}"[:100], value=k) for k in matches[:25]
        ]

    @group.command(name="history", description="Recent setting changes (who, when, old → new)")
    async def history(self, interaction: discord.Interaction):
        await require_admin(interaction)
        rows = await services_of(interaction).settings.history(guild_id_of(interaction))
        if not rows:
            text = "No settings have been changed yet."
        else:
            text = "\n".join(
                f"{discord.utils.format_dt(row['at'], 'f')} <@{row['actor_id']}> `{row['key']}`: "
                f"{_shown(row['key'], row['old'], 40)} → "
                f"{_shown(row['key'], row['new'], 40)}"
                for row in rows
            )
        embed = discord.Embed(title="Settings history", description=text, colour=COLOUR)
        await reply(interaction, embed=embed, ephemeral=True)
