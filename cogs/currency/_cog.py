"""/gems commands. Thin: parse the interaction, call one service, render the result."""

from __future__ import annotations

import logging
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from cogs._shared.feature_cog import (
    FeatureCog,
    admin_group,
    admin_only,
    member_group,
    service_checked,
    settings_of,
)
from cogs._shared.interaction import actor_of, guild_id_of, reply, safe_text, services_of
from cogs._shared.notify import post_to_moderators, send_dm
from cogs._shared.ui import RoutedModal, route_modal_submit
from cogs.currency._render import (
    balance_embed,
    daily_text,
    gift_digest_text,
    member_review_embed,
)
from cogs.currency._views import HistoryButton, LeaderboardButton, history_page, leaderboard_page
from economy.core.clock import to_ms, unix_seconds
from economy.core.errors import InvalidInput
from economy.core.ledger import check_amount
from economy.core.settings import MAX_AMOUNT
from economy.core.wording import plural
from economy.currency.activity import ChatMessage
from economy.currency.gifts import GiftDigest

log = logging.getLogger(__name__)

Amount = app_commands.Range[int, 1, MAX_AMOUNT]


def _check_recipient(member: discord.Member) -> None:
    if member.bot:
        raise InvalidInput("Bots don't hold GEMS. Pick a member instead.")


class CurrencyCog(FeatureCog):
    """Balances, gifts, dailies, leaderboard, history and admin grants."""

    gems = member_group("gems", "Your GEMS wallet")

    @gems.command(name="balance", description="Show your (or another member's) GEMS",
                  extras={"ephemeral": True})
    @app_commands.describe(member="Whose wallet to show (default: yours)")
    async def balance(self, interaction: discord.Interaction, member: discord.Member | None = None):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        target = member or interaction.user
        settings = await services.settings.get(guild_id)
        account, rank = await services.ledger.account_and_rank(guild_id, target.id)
        embed = balance_embed(safe_text(target.display_name, limit=64), account, rank, settings)
        await reply(interaction, embed=embed, ephemeral=True)

    @gems.command(name="give", description="Give some of your GEMS to another member",
                  extras={"ephemeral": False})
    @app_commands.describe(member="Who receives them", amount="How many", note="Optional message")
    async def give(
        self, interaction: discord.Interaction, member: discord.Member, amount: Amount,
        note: app_commands.Range[str, 1, 200] | None = None,
    ):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        _check_recipient(member)
        settings = await services.settings.get(guild_id)
        result = await services.gifts.give(
            guild_id, interaction.user.id, member.id, amount, key=f"give:{interaction.id}",
            note=note, sender_joined_at=getattr(interaction.user, "joined_at", None),
        )
        text = f"{interaction.user.mention} gave {member.mention} {settings.money(amount)}"
        text += f": {safe_text(note)}" if note else "."
        await reply(interaction, text)
        for flag in result.flags:
            await post_to_moderators(self.bot, guild_id, f"🚩 {flag}")

    @gems.command(name="daily", description="Claim your daily GEMS (streaks pay more)",
                  extras={"ephemeral": False})
    async def daily(self, interaction: discord.Interaction):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        settings = await services.settings.get(guild_id)
        claim = await services.ledger.claim_daily(
            guild_id, interaction.user.id, settings,
            joined_at=getattr(interaction.user, "joined_at", None),
            role_ids=frozenset(r.id for r in getattr(interaction.user, "roles", ())))
        # Public by default (others see the streak); a server can keep claims private.
        await reply(interaction, daily_text(interaction.user.mention, claim, settings),
                    ephemeral=not settings.daily_public)

    @gems.command(name="collect", description="Collect the income your roles earn",
                  extras={"ephemeral": True})
    async def collect(self, interaction: discord.Interaction):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        settings = await services.settings.get(guild_id)
        done = await services.income.collect(
            guild_id, interaction.user.id,
            frozenset(r.id for r in getattr(interaction.user, "roles", ())))
        lines = [f"<@&{rule.role_id}> ({rule.period}): {settings.money(amount)}"
                 for rule, amount in done.paid]
        await reply(interaction, f"Collected {settings.money(done.total)}:\n" + "\n".join(lines)
                    + f"\nNext income <t:{unix_seconds(to_ms(done.next_at))}:R>.", ephemeral=True)

    @gems.command(name="dms", description="Turn the bot's direct messages (and trade offers to you) on or off")
    @app_commands.describe(setting="on: DMs and trade offers allowed; off: none")
    async def dms(self, interaction: discord.Interaction, setting: Literal["on", "off"]):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        await services.member_prefs.set_dms(guild_id, interaction.user.id, setting == "on")
        text = ("You'll get DMs from the bot and members can offer you trades again."
                if setting == "on" else
                "Done: no more DMs from the bot in this server, and trade offers to you are "
                "refused. Trade rooms and `/trades list` still show your trades.")
        await reply(interaction, text, ephemeral=True)

    @gems.command(name="leaderboard", description="The richest members")
    @app_commands.describe(page="Page number (10 members per page)")
    async def leaderboard(
        self, interaction: discord.Interaction, page: app_commands.Range[int, 1, 100_000] = 1,
    ):
        # The season's board is `/season leaderboard` (one place for it).
        embed, pages, shown = await leaderboard_page(interaction, page)
        await reply(interaction, embed=embed, view=LeaderboardButton.view_for(0, shown, pages))

    @gems.command(name="history", description="Your recent GEMS movements")
    @app_commands.describe(page="Page number (10 entries per page)")
    async def history(
        self, interaction: discord.Interaction, page: app_commands.Range[int, 1, 100_000] = 1
    ):
        owner = interaction.user.id
        embed, pages, shown = await history_page(interaction, owner, page)
        await reply(interaction, embed=embed, view=HistoryButton.view_for(owner, shown, pages),
                    ephemeral=True)

    # --- gift DMs (the sweep job and its guild work) ---------------------------------------------
    async def sweep_gift_dms(self) -> None:
        """Job body: the due gift digests, each delivered by the process owning its guild."""
        for digest in await self.bot.services.gifts.due_digests():
            try:
                await self.bot.guild_work.hand_over("gift-dm", digest.guild_id, digest)
            except Exception:
                log.exception("could not deliver a gift DM in guild %s", digest.guild_id)

    async def deliver_gifts(self, digest: GiftDigest) -> None:
        """Guild work `gift-dm`: one DM to the recipient (skipped when they turned DMs off)."""
        guild = self.bot.get_guild(digest.guild_id)
        settings = await self.bot.services.settings.get(digest.guild_id)

        def name_of(user_id: int) -> str:
            member = guild.get_member(user_id) if guild else None
            return safe_text(member.display_name, limit=64) if member else f"<@{user_id}>"

        text = gift_digest_text(digest, settings, safe_text(guild.name, limit=100)
                                if guild else "the server", name_of)
        await send_dm(self.bot, digest.guild_id, digest.user_id, text)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Chat activity earns GEMS (rules and coalescing live in the activity service)."""
        if message.guild is None or not isinstance(message.author, discord.Member):
            return
        await self.bot.services.activity.record(ChatMessage(
            guild_id=message.guild.id, user_id=message.author.id, channel_id=message.channel.id,
            role_ids=frozenset(role.id for role in message.author.roles),
            content=message.content, author_is_bot=message.author.bot,
            at=self.bot.services.clock.now(), joined_at=message.author.joined_at,
        ))


class CurrencyAdminCog(FeatureCog):
    """Admin grants, takes and the treasury, in their own group so members never see them
    (Manage Server by default; server admins can re-assign it under Integrations)."""

    admin = admin_group("gems-admin", "GEMS administration (admins)")

    @admin.command(name="grant", description="Create GEMS for a member")
    @admin_only
    @app_commands.describe(member="Who receives them", amount="How many", reason="Why (audit log)")
    async def grant(
        self, interaction: discord.Interaction, member: discord.Member, amount: Amount,
        reason: app_commands.Range[str, 3, 200],
    ):
        settings = await settings_of(interaction)
        _check_recipient(member)
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        movement = await services.ledger.grant(
            guild_id, await actor_of(interaction), member.id, amount, reason=reason,
            key=f"grant:{interaction.id}",
        )
        new_balance = movement.entries[0].balance_after
        await reply(
            interaction,
            f"Granted {settings.money(amount)} to {member.mention} ({safe_text(reason)}). "
            f"New balance: {new_balance:,}.",
        )

    @admin.command(name="take", description="Remove GEMS from a member (never below zero)")
    @admin_only
    @app_commands.describe(member="From whom", amount="How many", reason="Why (audit log)")
    async def take(
        self, interaction: discord.Interaction, member: discord.Member, amount: Amount,
        reason: app_commands.Range[str, 3, 200],
    ):
        settings = await settings_of(interaction)
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        movement = await services.ledger.take(
            guild_id, await actor_of(interaction), member.id, amount, reason=reason,
            key=f"take:{interaction.id}",
        )
        new_balance = movement.entries[0].balance_after
        await reply(
            interaction,
            f"Removed {settings.money(amount)} from {member.mention} ({safe_text(reason)}). "
            f"New balance: {new_balance:,}.",
        )

    @admin.command(name="reset",
                   description="Burn a member's (or everyone's) GEMS; you confirm with the server name")
    @admin_only
    @app_commands.describe(scope="One member, or every member of the server",
                           member="Whose GEMS (with scope member)")
    async def reset(self, interaction: discord.Interaction, scope: Literal["member", "all"],
                    member: discord.Member | None = None):
        # Always the form first (a modal must be the first answer, and the response policy
        # learns this command as one that opens a modal); the choice is checked on submit.
        target = "all" if scope == "all" else ("bot" if member is not None and member.bot
                                               else member.id if member else "none")
        await interaction.response.send_modal(ResetModal(target))

    @commands.Cog.listener("on_interaction")
    async def reset_form_sent(self, interaction: discord.Interaction) -> None:
        """A reset form was submitted: routed by its custom id (`gems:reset:<target>`), so a
        form opened before a restart still works after it (ResetModal keeps nothing in memory)."""
        await route_modal_submit(interaction, RESET_PREFIX, self, self._reset_submitted)

    async def _reset_submitted(self, interaction: discord.Interaction, target: str,
                               values: dict[str, str]) -> None:
        # Anyone can craft a modal submit with any custom id: who may act is checked first,
        # and again by the service.
        (await actor_of(interaction)).require_admin(guild_id_of(interaction))
        if target not in ("all", "none", "bot") and not target.isdigit():
            raise InvalidInput("That form is not one I sent; run `/gems-admin reset` again. "
                               "Nothing was reset.")
        await self.run_reset(interaction, target, values.get(RESET_FIELD, ""))

    async def run_reset(self, interaction: discord.Interaction, target: int | str,
                        typed: str) -> None:
        """The reset form was sent: burn through the service, say what happened."""
        if target == "none":
            raise InvalidInput("Pick the member whose GEMS to reset (the `member` option); "
                               "nothing was reset.")
        if target == "bot":
            raise InvalidInput("Bots don't hold GEMS; nothing was reset.")
        user_id = None if target == "all" else int(target)
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        settings = await services.settings.get(guild_id)
        actor = await actor_of(interaction)
        name = interaction.guild.name if interaction.guild else ""
        key = str(interaction.id)
        admin = services.economy_admin
        if user_id is None:
            result = await admin.reset_all(guild_id, actor, typed_name=typed, server_name=name,
                                           key=key)
            text = (f"Economy reset: {settings.money(result.burned)} burned from "
                    f"{plural(result.members, 'member')}.")
        else:
            result = await admin.reset_member(guild_id, actor, user_id, typed_name=typed,
                                              server_name=name, key=key)
            text = f"Reset <@{user_id}>: {settings.money(result.burned)} burned."
        if result.missed:
            text += (f" Not reset (their balance kept changing): "
                     f"{', '.join(f'<@{u}>' for u in result.missed[:20])}; run it again.")
        await reply(interaction, text, ephemeral=True)

    @admin.command(name="set-balance", extras={"ephemeral": True},
                   description="Set a member's GEMS to an exact amount (the difference is minted or burned)")
    @admin_only
    @app_commands.describe(member="Whose balance", amount="The new balance (0 or more)",
                           reason="Why (audit log, optional)")
    async def set_balance(
        self, interaction: discord.Interaction, member: discord.Member,
        amount: app_commands.Range[int, 0, MAX_AMOUNT],
        reason: app_commands.Range[str, 3, 150] | None = None,
    ):
        _check_recipient(member)
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        settings = await services.settings.get(guild_id)
        done = await services.economy_admin.set_balance(
            guild_id, await actor_of(interaction), member.id, amount,
            key=f"setbal:{interaction.id}", reason=reason)
        if done.before == done.after:
            text = f"{member.mention} already has {settings.money(done.after)}; nothing changed."
        else:
            text = (f"{member.mention}'s balance: {settings.money(done.before)} → "
                    f"{settings.money(done.after)}.")
        await reply(interaction, text, ephemeral=True)

    @admin.command(name="grant-role", description="Create GEMS for every member holding a role")
    @admin_only
    @app_commands.describe(role="Whose holders receive them", amount="How many each",
                           reason="Why (audit log)")
    async def grant_role(
        self, interaction: discord.Interaction, role: discord.Role, amount: Amount,
        reason: app_commands.Range[str, 3, 200],
    ):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        settings = await services.settings.get(guild_id)
        holders = [m.id for m in role.members if not m.bot]
        if not holders:
            raise InvalidInput(f"Nobody (apart from bots) holds {role.mention}.")
        check_amount(amount)  # refused privately, before the public "thinking..."
        if len(holders) > 100 and not interaction.response.is_done():
            await interaction.response.defer(thinking=True)  # a big role takes a while
        result = await services.economy_admin.grant_role(
            guild_id, await actor_of(interaction), holders, amount,
            key=str(interaction.id), reason=reason)
        text = (f"Granted {settings.money(amount)} to each of {plural(result.granted, 'member')} "
                f"holding {role.mention} ({safe_text(reason)}).")
        if result.repeated:
            text += f" {plural(result.repeated, 'member')} had it already from this grant."
        await reply(interaction, text)

    @admin.command(name="treasury", description="The server treasury (trade fees)")
    @admin_only
    async def treasury(self, interaction: discord.Interaction):
        settings = await settings_of(interaction)
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        balance = await services.ledger.treasury_balance(guild_id)
        await reply(interaction, f"The treasury holds {settings.money(balance)} from trade fees.",
                    ephemeral=True)

    @admin.command(name="member", extras={"ephemeral": True},
                   description="A member's balance, ledger, trades, disputes, flags and wallets (private)")
    # Shown to Manage Server by default (one default permission per top-level command); the
    # service also admits moderators, for servers that allow their role for /gems-admin.
    @service_checked("admin")
    @app_commands.describe(member="Whose records to show")
    async def member(self, interaction: discord.Interaction, member: discord.Member):
        _check_recipient(member)
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        review = await services.member_review.review(guild_id, await actor_of(interaction), member.id)
        settings = await services.settings.get(guild_id)
        embed = member_review_embed(safe_text(member.display_name, limit=64), review, settings)
        await reply(interaction, embed=embed, ephemeral=True)


RESET_PREFIX = "gems:reset:"
RESET_FIELD = "server_name"


class ResetModal(RoutedModal, title="Reset GEMS"):
    """The confirmation of a reset: the admin types the server's name. Kept nowhere: the submit
    is routed by its custom id to `CurrencyAdminCog.reset_form_sent` (survives a restart)."""

    server_name = discord.ui.TextInput(label="Type the server's name to confirm",
                                       custom_id=RESET_FIELD, max_length=100)

    def __init__(self, target: int | str) -> None:
        # A member id, "all", or what was wrong with the choice ("none", "bot").
        super().__init__(timeout=None, custom_id=f"{RESET_PREFIX}{target}")
