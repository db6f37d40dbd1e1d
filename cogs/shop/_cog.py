"""/shop and /shop-admin. Thin: parse, call the shop service, render."""

from __future__ import annotations

import logging
from typing import Literal

import discord
from discord import app_commands

from cogs._shared.feature_cog import FeatureCog, admin_group, admin_only, member_group, settings_of
from cogs._shared.interaction import actor_of, guild_id_of, reply, safe_text, services_of
from cogs._shared.time_option import DeadlineOrDuration, When, member_zone
from cogs.raffles import raffle_line
from cogs.shop._roles import deliver, role_problem
from cogs.shop._tickets import post_ticket
from cogs.shop._views import (
    catalogue_page,
    catalogue_view,
    item_line,
    send_gift_quote,
    send_quote,
)
from economy.core.clock import unix_seconds
from economy.core.errors import InvalidInput
from economy.core.wording import plural

log = logging.getLogger(__name__)
ItemId = app_commands.Range[int, 1, 10**12]
Count = app_commands.Range[int, 1, 1_000_000]


def _check_role(interaction: discord.Interaction, role: discord.Role | None) -> None:
    """Refuse a role the bot could not give (before anything is stored)."""
    if role is not None and (problem := role_problem(interaction.guild, role)):
        raise InvalidInput(f"I could not give that role: {problem}. Move my role above it "
                           "first.")


async def _sellable_badge(interaction: discord.Interaction,
                          current: str) -> list[app_commands.Choice[str]]:
    """The badges staff may sell (the badges feature answers through the shop's kind seam)."""
    found = await services_of(interaction).shop.kind_choices(guild_id_of(interaction), "badge",
                                                             current)
    return [app_commands.Choice(name=label, value=ref) for label, ref in found]


async def _boostable_listing(interaction: discord.Interaction,
                             current: str) -> list[app_commands.Choice[int]]:
    """The member's active listings (the marketplace answers through the shop's effect seam)."""
    found = await services_of(interaction).shop.effect_choices(
        guild_id_of(interaction), interaction.user.id, "listing_boost", current)
    return [app_commands.Choice(name=label, value=ref) for label, ref in found]


class ShopCog(FeatureCog):
    """The shop."""

    shop = member_group("shop", "Spend GEMS on roles and items")
    shop_admin = admin_group("shop-admin", "The shop's items (admins)")

    # --- members ------------------------------------------------------------------------------
    @shop.command(name="browse", description="The shop's items, with Buy buttons")
    @app_commands.describe(page="Page number")
    async def browse(self, interaction: discord.Interaction,
                     page: app_commands.Range[int, 1, 10_000] = 1):
        embed, found = await catalogue_page(interaction, page)
        await reply(interaction, embed=embed, view=catalogue_view(0, found), ephemeral=True)

    @shop.command(name="buy", description="Buy an item (you confirm the price first)")
    @app_commands.describe(item="Item number (see /shop browse)")
    async def buy(self, interaction: discord.Interaction, item: ItemId):
        await send_quote(interaction, item)

    @shop.command(name="gift", description="Buy an item for another member (you confirm the price first)")
    @app_commands.describe(member="Who gets it", item="Item number (see /shop browse)")
    async def gift(self, interaction: discord.Interaction, member: discord.Member, item: ItemId):
        await send_gift_quote(interaction, item, member)

    @shop.command(name="inventory", description="What you (or another member) own from the shop")
    @app_commands.describe(member="Whose inventory (default: yours)")
    async def inventory(self, interaction: discord.Interaction,
                        member: discord.Member | None = None):
        who = member or interaction.user
        held = await services_of(interaction).shop.inventory(guild_id_of(interaction), who.id)
        lines = []
        for item, holding in held:
            if item.kind == "consumable":
                lines.append(f"**#{item.item_id} {safe_text(item.name, limit=60)}** × "
                             f"{holding.quantity}")
            elif item.kind == "custom":
                lines.append(f"**#{item.item_id} {safe_text(item.name, limit=60)}** × "
                             f"{holding.bought} (handed over by staff)")
            elif item.kind == "badge":
                lines.append(f"**#{item.item_id} {safe_text(item.name, limit=60)}** × "
                             f"{holding.bought} (a badge: `/profile badges`)")
            else:
                until = (f" until <t:{unix_seconds(holding.role_until_ms)}:f>"
                         if holding.role_until_ms else " (permanent)")
                lines.append(f"**#{item.item_id} {safe_text(item.name, limit=60)}** — "
                             f"<@&{item.role_id}>{until}")
        title = "Your inventory" if who.id == interaction.user.id else f"{who.mention}'s inventory"
        await reply(interaction, f"{title}:\n" + ("\n".join(lines) or "Nothing yet."),
                    ephemeral=True)

    @shop.command(name="raffles", description="Open raffles: prize, ticket price, end, your tickets")
    async def raffles(self, interaction: discord.Interaction):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        settings = await services.settings.get(guild_id)
        found = await services.raffles.open_raffles(guild_id)
        mine = {r.raffle_id: n for r, n in await services.raffles.my_tickets(
            guild_id, interaction.user.id)}
        lines = [raffle_line(r, settings, mine.get(r.raffle_id)) for r in found]
        text = ("🎟️ Open raffles (buy with `/shop tickets`):\n" + "\n".join(lines) if lines
                else "No raffle is open right now.")
        await reply(interaction, text, ephemeral=True)

    @shop.command(name="tickets", description="Buy raffle tickets with GEMS")
    @app_commands.describe(raffle="Raffle number (see /shop raffles)", count="How many tickets")
    async def tickets(self, interaction: discord.Interaction,
                      raffle: app_commands.Range[int, 1, 10**12],
                      count: app_commands.Range[int, 1, 10_000] = 1):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        settings = await services.settings.get(guild_id)
        bought = await services.raffles.buy(guild_id, interaction.user.id, raffle, count,
                                            key=str(interaction.id))
        balance = (f" Your balance: {settings.money(bought.balance)}."
                   if bought.balance is not None else "")
        await reply(interaction,
                    f"🎟️ {plural(bought.count, 'ticket')} for raffle #{raffle} "
                    f"(**{safe_text(bought.raffle.prize, limit=100)}**) for "
                    f"{settings.money(bought.paid)}: you hold {bought.total}.{balance}",
                    ephemeral=True)

    @shop.command(name="use", description="Use an item from your inventory")
    @app_commands.describe(item="Item number (see /shop inventory)",
                           listing="The listing to boost (a listing boost): one of your active listings")
    @app_commands.autocomplete(listing=_boostable_listing)
    async def use(self, interaction: discord.Interaction, item: ItemId,
                  listing: app_commands.Range[int, 1, 10**12] | None = None):
        said = await services_of(interaction).shop.use(guild_id_of(interaction),
                                                       interaction.user.id, item, listing)
        await reply(interaction, said, ephemeral=True)

    # --- staff --------------------------------------------------------------------------------
    @shop_admin.command(name="add", description="Put an item on sale")
    @admin_only
    @app_commands.describe(
        name="What members see", price="Price in GEMS",
        kind="A role, a consumable, custom (staff hand it over: a ticket; needs a description) "
             "or a badge",
        badge="The badge to sell (kind badge): one your staff made without a rule",
        role="The role to give (kind role)", days="Role for this many days (empty: permanent)",
        effect="What a consumable does", stock="Units for sale (empty: unlimited)",
        per_member_limit="Most units one member may buy (empty: no limit)",
        required_role="Only members with this role may buy",
        available_from="On sale from (a time in your zone, or a duration like 2d)",
        available_until="On sale until (a time, or a duration like 7d)",
        description="A short description")
    @app_commands.autocomplete(badge=_sellable_badge)
    async def add(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 60],
                  price: int, kind: Literal["role", "consumable", "custom", "badge"],
                  role: discord.Role | None = None,
                  days: app_commands.Range[int, 1, 3650] | None = None,
                  effect: Literal["streak_freeze", "listing_boost"] | None = None,
                  stock: int | None = None,
                  per_member_limit: int | None = None,
                  required_role: discord.Role | None = None,
                  available_from: When | None = None,
                  available_until: DeadlineOrDuration | None = None,
                  description: app_commands.Range[str, 1, 200] | None = None,
                  badge: app_commands.Range[str, 1, 100] | None = None):
        _check_role(interaction, role)
        item = await services_of(interaction).shop.add(
            guild_id_of(interaction), await actor_of(interaction), name=name, price=price, kind=kind,
            role_id=role.id if role else None, days=days, effect=effect, stock=stock,
            per_member_limit=per_member_limit,
            required_role_id=required_role.id if required_role else None,
            description=description, available_from=available_from,
            available_until=available_until, zone=await member_zone(interaction), target=badge)
        settings = await settings_of(interaction)
        await reply(interaction, f"On sale:\n{item_line(item, settings)}", ephemeral=True)

    @shop_admin.command(name="edit", description="Change an item (open quotes are refused)")
    @admin_only
    @app_commands.describe(item="Item number", name="New name", price="New price",
                           description="New description",
                           per_member_limit="New per-member limit",
                           required_role="New required role",
                           available_from="New start of the sale",
                           available_until="New end of the sale")
    async def edit(self, interaction: discord.Interaction, item: ItemId,
                   name: app_commands.Range[str, 1, 60] | None = None, price: int | None = None,
                   description: app_commands.Range[str, 1, 200] | None = None,
                   per_member_limit: int | None = None,
                   required_role: discord.Role | None = None,
                   available_from: When | None = None,
                   available_until: DeadlineOrDuration | None = None):
        given = {"name": name, "price": price, "description": description,
                 "per_member_limit": per_member_limit,
                 "required_role_id": required_role.id if required_role else None,
                 "available_from": available_from, "available_until": available_until}
        changes = {k: v for k, v in given.items() if v is not None}
        edited = await services_of(interaction).shop.edit(
            guild_id_of(interaction), await actor_of(interaction), item,
            zone=await member_zone(interaction), **changes)
        settings = await settings_of(interaction)
        await reply(interaction, f"Changed:\n{item_line(edited, settings)}", ephemeral=True)

    @shop_admin.command(name="remove", description="Take an item off sale (owners keep theirs)")
    @admin_only
    @app_commands.describe(item="Item number")
    async def remove(self, interaction: discord.Interaction, item: ItemId):
        gone = await services_of(interaction).shop.remove(guild_id_of(interaction),
                                                          await actor_of(interaction), item)
        await reply(interaction, f"**#{gone.item_id} {safe_text(gone.name, limit=60)}** is off "
                    "sale.", ephemeral=True)

    @shop_admin.command(name="restock", description="Add units to a limited item")
    @admin_only
    @app_commands.describe(item="Item number", amount="Units to add")
    async def restock(self, interaction: discord.Interaction, item: ItemId, amount: Count):
        found = await services_of(interaction).shop.restock(
            guild_id_of(interaction), await actor_of(interaction), item, amount)
        await reply(interaction, f"Restocked: **#{found.item_id}** now has {found.stock:,} left.",
                    ephemeral=True)

    @shop_admin.command(name="list", description="Every item, off-sale ones too, with sales")
    @admin_only
    async def list_(self, interaction: discord.Interaction):
        items = await services_of(interaction).shop.all_items(guild_id_of(interaction),
                                                              await actor_of(interaction))
        settings = await settings_of(interaction)
        lines = [f"{item_line(i, settings)}\n  Sold: {i.sold:,} · version {i.version}"
                 + ("" if i.active else " · **off sale**") for i in items]
        await reply(interaction, "\n".join(lines)[:1900] or "No items yet.", ephemeral=True)

    # --- jobs ---------------------------------------------------------------------------------
    async def sweep(self) -> int:
        """Remove timed roles that ended; give (or refund) roles whose grant was interrupted;
        post the staff tickets of custom items not posted yet."""
        shop = self.bot.services.shop
        done = 0
        for guild_id in await shop.guild_ids():
            guild = self.bot.get_guild(guild_id)
            if guild is None:  # another process's shard
                continue
            for user_id, item_id, role_id, until in await shop.due_roles(guild_id):
                member, role = guild.get_member(user_id), guild.get_role(role_id)
                try:
                    if member is not None and role is not None and role in member.roles:
                        await member.remove_roles(role, reason="Shop role ended")
                except discord.HTTPException as error:
                    log.warning("could not remove shop role %s in %s: %s", role_id, guild_id,
                                error)
                    continue
                done += await shop.role_ended(guild_id, user_id, item_id, until)
            for purchase in await shop.stale_grants(guild_id):
                await deliver(self.bot, guild, purchase)
                done += 1
            for purchase in await shop.tickets_to_post(guild_id):
                done += await post_ticket(self.bot, guild_id, purchase)
        return done
