"""/income-admin commands (admins) and the automatic income payment. Thin: parse, call the
income service, render."""

from __future__ import annotations

import logging
from typing import Literal

import discord
from discord import app_commands

from cogs._shared.feature_cog import FeatureCog, admin_group, admin_only, settings_of
from cogs._shared.interaction import actor_of, guild_id_of, reply, services_of
from economy.income.service import MAX_INCOME

log = logging.getLogger(__name__)


class IncomeCog(FeatureCog):
    """Income for roles: rules, and paying them where the server wants it automatic."""

    income_admin = admin_group("income-admin", "Role income (admins)")

    @income_admin.command(name="add", description="Members holding a role earn GEMS each day or week")
    @admin_only
    @app_commands.describe(role="Whose holders earn", amount="GEMS per member per period",
                           period="daily or weekly (in the server's time zone)")
    async def add(self, interaction: discord.Interaction, role: discord.Role,
                  amount: app_commands.Range[int, 1, MAX_INCOME],
                  period: Literal["daily", "weekly"]):
        settings = await settings_of(interaction)
        rule = await services_of(interaction).income.add(
            guild_id_of(interaction), await actor_of(interaction), role.id, amount, period)
        how = ("paid automatically" if settings.income_auto_pay
               else "collected with `/gems collect`")
        await reply(interaction, f"{role.mention} now earns {settings.money(rule.amount)} "
                                 f"{period} ({how}).", ephemeral=True)

    @income_admin.command(name="remove", description="Stop a role's income")
    @admin_only
    @app_commands.describe(role="Whose income stops", period="daily or weekly")
    async def remove(self, interaction: discord.Interaction, role: discord.Role,
                     period: Literal["daily", "weekly"]):
        await services_of(interaction).income.remove(
            guild_id_of(interaction), await actor_of(interaction), role.id, period)
        await reply(interaction, f"{role.mention} no longer earns {period} income.",
                    ephemeral=True)

    @income_admin.command(name="list", description="The roles that earn income")
    @admin_only
    async def list_(self, interaction: discord.Interaction):
        settings = await settings_of(interaction)
        rules = await services_of(interaction).income.rules(guild_id_of(interaction))
        lines = [f"<@&{r.role_id}>: {settings.money(r.amount)} {r.period}" for r in rules]
        how = ("Paid automatically." if settings.income_auto_pay
               else "Members collect with `/gems collect`.")
        await reply(interaction, ("\n".join(lines) + f"\n{how}") if lines
                    else "No role earns income yet: `/income-admin add`.", ephemeral=True)

    async def pay_due(self) -> int:
        """Job body: pay every rule's current period to the role's holders, where automatic
        payment is on (once per member per period: a rerun or another process pays nobody
        twice)."""
        income = self.bot.services.income
        paid = 0
        for guild_id in await income.auto_guilds():
            guild = self.bot.get_guild(guild_id)
            if guild is None:
                continue  # another process's shard
            for rule in await income.rules(guild_id):
                role = guild.get_role(rule.role_id)
                if role is None:
                    continue
                try:
                    paid += await income.pay_holders(guild_id, rule.role_id, rule.period,
                                                     [m.id for m in role.members if not m.bot])
                except Exception:
                    log.exception("income of role %s in guild %s", rule.role_id, guild_id)
        return paid
