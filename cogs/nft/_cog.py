"""/wallet (members) and /wallet-admin (lookups for moderators, NFT roles for admins).
Thin: parse, call a service, render."""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Literal

import discord
from discord import app_commands

from cogs._shared.download import DownloadingCog
from cogs._shared.feature_cog import (
    FeatureCog,
    admin_group,
    admin_only,
    member_group,
    moderator_only,
)
from cogs._shared.interaction import (
    NO_PINGS,
    actor_of,
    guild_id_of,
    reply,
    safe_text,
)
from cogs.nft._render import gallery_embed, rules_embed, status_embed, sync_text, test_text
from cogs.nft._sync import RoleSync
from economy.core.errors import GemsError, InvalidInput, NotPermitted
from economy.nft.chain import ChainError, ChainMismatch, ChainReader
from economy.nft.service import GalleryEntry
from economy.nft.wallets import Linked, checksum

log = logging.getLogger(__name__)

#: The largest integer option Discord accepts (2^53 - 1, its OpenAPI `Int53Type`): one option over
#: it makes Discord refuse the whole command sync. EIP-155 chain ids in use are far below it.
CHAIN_ID_MAX = 2**53 - 1

GALLERY_IMAGES = 4  # token thumbnails attached to one gallery answer


class NftCog(DownloadingCog, FeatureCog):
    """Wallet linking and NFT-holder roles."""

    download_timeout = 10
    download_what = "a token image"

    wallet = member_group("wallet", "Link your crypto wallets")
    # Wallet lookups (moderators) and NFT-holder roles (admins, checked per subcommand).
    wallet_admin = admin_group("wallet-admin", "Wallet lookups (moderators), NFT-holder roles (admins)",
                               moderators=True)
    rule = app_commands.Group(name="rule", description="Admin: rules that grant roles to holders",
                              parent=wallet_admin)

    def __init__(self, bot) -> None:
        super().__init__(bot)
        self.sync = RoleSync(bot)
        self._chain_check: asyncio.Task | None = None

    async def cog_load(self) -> None:
        """Open the download session; check every configured chain in the background (a slow
        node must not delay start-up)."""
        await super().cog_load()
        self._chain_check = asyncio.create_task(self.check_chains(), name="nft-chain-check")

    async def cog_unload(self) -> None:
        if self._chain_check is not None:
            self._chain_check.cancel()
        await super().cog_unload()

    async def check_chains(self) -> None:
        """Log a clear error for each configured chain whose node serves another chain (that
        chain is then refused for rules, syncs and wallet links until the node is fixed)."""
        try:
            results = await self.services.nft.check_chains()
        except Exception:
            log.exception("checking the configured chains failed")
            return
        for chain_id, error in results.items():
            if isinstance(error, ChainMismatch):
                log.error("chain %s is unusable: %s", chain_id, error)
            elif error is not None:
                log.warning("chain %s: could not check the RPC endpoint's chain id at start-up "
                            "(checked again before each sync): %s", chain_id, error)

    async def thumbnails(self, guild_id: int, entries: list[GalleryEntry]
                         ) -> list[tuple[str, bytes]]:
        """Up to GALLERY_IMAGES (file name, JPEG) of the listed tokens, cached by the service."""
        files: list[tuple[str, bytes]] = []
        chains = self.services.nft.chains
        deadline = chains.deadline()  # a hanging node costs one budget, then one timeout
        readers: dict[int, ChainReader] = {}
        for entry in entries:
            for token_id, _ in entry.tokens:
                if len(files) >= GALLERY_IMAGES:
                    return files
                try:
                    if entry.chain_id not in readers:
                        readers[entry.chain_id] = chains.for_sync(entry.chain_id, deadline)
                    reader = readers[entry.chain_id]
                    thumb = await self.services.nft_media.thumbnail(
                        guild_id, reader, entry.contract, entry.standard, token_id, self.fetch)
                except (GemsError, ChainError):
                    thumb = None
                if thumb:
                    files.append((f"{entry.contract[2:10].lower()}-{token_id}.jpg", thumb))
        return files

    async def after_link(self, linked: Linked) -> str:
        """Sync the member's roles right after a wallet was linked; a short text for the page."""
        guild = self.bot.get_guild(linked.guild_id)
        if guild is None:
            return ""
        try:
            plan, result = await self.sync.sync_member(guild, linked.user_id)
        except Exception:
            log.exception("role sync after linking failed in guild %s", linked.guild_id)
            return "Your roles will be updated at the next sync."
        if result.added or result.removed:
            names = [guild.get_role(c.role_id) for c in plan.changes if c.add]
            given = ", ".join(r.name for r in names if r is not None)
            return f"Roles given: {given}." if given else "Your roles were updated."
        return "No holder role changed."

    # --- /wallet ----------------------------------------------------------------------------

    @wallet.command(name="link", description="Get a one-time link to connect a wallet (10 minutes)")
    async def link(self, interaction: discord.Interaction):
        guild_id = guild_id_of(interaction)
        ticket = await self.services.wallets.start_link(
            guild_id, interaction.user.id, member_name=interaction.user.name,
            guild_name=interaction.guild.name if interaction.guild else "server",
            public_url=self.bot.web.public_url)
        expires = discord.utils.format_dt(ticket.expires_at, "R")
        await reply(interaction, (
            f"Open this link in a browser with your wallet and sign the message (free, no "
            f"transaction). It works once and expires {expires}.\n{ticket.url}\n"
            "Do not share it: whoever uses it links their wallet to you."), ephemeral=True)

    @wallet.command(name="list", description="Your linked wallets")
    async def list_(self, interaction: discord.Interaction):
        addresses = await self.services.wallets.wallets(guild_id_of(interaction), interaction.user.id)
        text = "\n".join(f"• `{a}`" for a in addresses) if addresses else \
            "You have no linked wallets. Use `/wallet link`."
        await reply(interaction, text, ephemeral=True)

    @wallet.command(name="unlink", description="Unlink one of your wallets")
    @app_commands.describe(address="The wallet address (0x…)")
    async def unlink(self, interaction: discord.Interaction,
                     address: app_commands.Range[str, 1, 100]):
        guild_id = guild_id_of(interaction)
        removed = await self.services.wallets.unlink(guild_id, interaction.user.id, address)
        await interaction.response.defer(ephemeral=True, thinking=True)
        plan, result = await self.sync.sync_member(interaction.guild, interaction.user.id)
        await reply(interaction, f"Unlinked `{removed}`. {sync_text(plan, result)}", ephemeral=True)

    @wallet.command(name="refresh", description="Re-check your holder roles now")
    async def refresh(self, interaction: discord.Interaction):
        guild_id_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        plan, result = await self.sync.sync_member(interaction.guild, interaction.user.id)
        await reply(interaction, sync_text(plan, result), ephemeral=True)

    @wallet.command(name="gallery", description="NFTs of the server's collections held by a member")
    @app_commands.describe(member="Whose gallery (default: yours)")
    async def gallery(self, interaction: discord.Interaction, member: discord.Member | None = None):
        guild_id = guild_id_of(interaction)
        target = member or interaction.user
        await interaction.response.defer(ephemeral=True, thinking=True)
        wallets = await self.services.wallets.wallets(guild_id, target.id)
        entries = await self.services.nft.gallery(guild_id, target.id)
        embed = gallery_embed(safe_text(target.display_name, limit=64), len(wallets), entries)
        images = await self.thumbnails(guild_id, entries)
        if images:
            embed.set_image(url=f"attachment://{images[0][0]}")
        await interaction.followup.send(
            embed=embed, files=[discord.File(io.BytesIO(data), filename=name) for name, data in images],
            ephemeral=True, allowed_mentions=NO_PINGS)

    # --- /wallet-admin lookup ----------------------------------------------------------------

    @wallet_admin.command(name="lookup", description="Who holds a wallet, or a member's wallets")
    @moderator_only
    @app_commands.describe(member="A member whose wallets to show",
                           address="A wallet address to find the member of")
    async def lookup(self, interaction: discord.Interaction, member: discord.Member | None = None,
                     address: app_commands.Range[str, 1, 100] | None = None):
        guild_id = guild_id_of(interaction)
        if (member is None) == (address is None):
            raise InvalidInput("Give either a member or an address.")
        if member is not None:
            addresses = await self.services.wallets.wallets(guild_id, member.id)
            name = safe_text(member.display_name, limit=64)
            text = f"**{name}**: " + (", ".join(f"`{a}`" for a in addresses) or "no linked wallets")
        else:
            owner = await self.services.wallets.owner_of(guild_id, address or "")
            text = f"`{checksum(address or '')}` is " + (
                f"linked to <@{owner}>." if owner else "not linked to anyone here.")
        await reply(interaction, text[:1900], ephemeral=True)

    # --- /wallet-admin rule, sync, status -----------------------------------------------------

    @rule.command(name="add", description="Admin: give a role to holders of an NFT collection")
    @admin_only
    @app_commands.describe(
        contract="Token contract address (0x…)", standard="Token standard", role="Role to give",
        token_ids="Only these token ids, e.g. 1-100, 150 (required for ERC-1155)",
        min_count="How many tokens a member must hold in total (default 1)",
        max_count="At most this many tokens (optional)",
        group="Rules with the same group must all hold (optional name)",
        chain="Chain id (default: the first configured chain)")
    async def rule_add(
        self, interaction: discord.Interaction, contract: app_commands.Range[str, 1, 100],
        standard: Literal["erc721", "erc1155"], role: discord.Role,
        token_ids: app_commands.Range[str, 1, 200] | None = None,
        min_count: app_commands.Range[int, 1, 1_000_000] = 1,
        max_count: app_commands.Range[int, 1, 1_000_000] | None = None,
        group: app_commands.Range[str, 1, 20] | None = None,
        chain: app_commands.Range[int, 1, CHAIN_ID_MAX] | None = None,
    ):
        guild = interaction.guild
        assert guild is not None
        me = guild.me
        if role.is_default() or role.managed:
            raise InvalidInput("That role cannot be given by a bot (it is @everyone or managed).")
        if role >= me.top_role:
            raise InvalidInput(f"{role.mention} is above my highest role, so I could not give it. "
                               "Move my role above it first.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        created = await self.services.nft.add_rule(
            guild.id, await actor_of(interaction), chain_id=chain or self.services.nft.chains.default_chain_id,
            contract=contract, standard=standard, role_id=role.id, token_ids=token_ids,
            min_count=min_count, max_count=max_count, group=group.lower() if group else None)
        await reply(interaction, f"Added rule {created.describe()}. Run `/wallet-admin sync` to apply it "
                    "to everyone now (it also runs periodically).", ephemeral=True)

    @rule.command(name="list", description="Admin: the NFT role rules")
    @admin_only
    async def rule_list(self, interaction: discord.Interaction):
        rules = await self.services.nft.rules(guild_id_of(interaction))
        await reply(interaction, embed=rules_embed(rules), ephemeral=True)

    @rule.command(name="remove", description="Admin: delete an NFT role rule")
    @admin_only
    @app_commands.describe(rule="Rule number (see /wallet-admin rule list)")
    async def rule_remove(self, interaction: discord.Interaction,
                          rule: app_commands.Range[int, 1, 10_000]):
        removed = await self.services.nft.remove_rule(guild_id_of(interaction),
                                                     await actor_of(interaction), rule)
        await reply(interaction, f"Removed rule {removed.describe()}. Members who hold the role "
                    "keep it unless another rule manages that role (remove it by hand if needed).",
                    ephemeral=True)

    @rule.command(name="test", description="Admin: what a member would get from the rules, and why")
    @admin_only
    @app_commands.describe(member="The member to check (nothing is changed)")
    async def rule_test(self, interaction: discord.Interaction, member: discord.Member):
        guild_id = guild_id_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        rules = await self.services.nft.rules(guild_id)
        managed = {r.role_id for r in rules}
        plan = await self.services.nft.plan(
            guild_id, {member.id: {r.id for r in member.roles if r.id in managed}},
            only_user=member.id)
        await reply(interaction, test_text(safe_text(member.display_name, limit=64), rules, plan,
                                           member.id), ephemeral=True)

    @wallet_admin.command(name="sync", description="Admin: re-check holder roles now (one member or everyone)")
    @admin_only
    @app_commands.describe(member="Only this member (default: everyone)")
    async def sync_now(self, interaction: discord.Interaction,
                       member: discord.Member | None = None):
        guild = interaction.guild
        if guild is None:
            raise NotPermitted("This command only works in a server.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        if member is not None:
            plan, result = await self.sync.sync_member(guild, member.id)
        else:
            plan, result = await self.sync.sync_guild(guild)
        await reply(interaction, sync_text(plan, result), ephemeral=True)

    @wallet_admin.command(name="status", description="Admin: last sync: time, block, wallets, roles, RPC calls, errors")
    @admin_only
    async def status(self, interaction: discord.Interaction):
        status = await self.services.nft.status(guild_id_of(interaction))
        await reply(interaction, embed=status_embed(status), ephemeral=True)
