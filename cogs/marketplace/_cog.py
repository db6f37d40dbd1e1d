"""/list-item, /market (browse, your listings, alerts, wishlist) and /market-admin. Thin: parse, call the service, render."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from cogs._shared.download import DownloadingCog
from cogs._shared.feature_cog import (
    FeatureCog,
    admin_group,
    member_group,
    moderator_only,
    settings_of,
)
from cogs._shared.interaction import (
    NO_PINGS,
    actor_of,
    guild_id_of,
    reply,
    safe_text,
    services_of,
)
from cogs._shared.ui import GatedModal
from cogs.marketplace._render import mine_embed, wishlist_embed
from cogs.marketplace._views import (
    deliver,
    detail_parts,
    post_published,
    preview_text,
    preview_view,
    results_parts,
    review_view,
    show_listing,
)
from economy.core.images import ImageLimits, ImageTooLarge, prepare_images
from economy.core.settings import MAX_AMOUNT
from economy.core.wording import plural
from economy.marketplace.models import (
    CONDITIONS,
    DESCRIPTION_MAX,
    MAX_IMAGES,
    SORTS,
    SPECS_MAX_CHARS,
    TITLE_MAX,
    TITLE_MIN,
    Listing,
    Notice,
    PublishResult,
)
from economy.marketplace.rules import categories

log = logging.getLogger(__name__)

CONDITION_CHOICES = [app_commands.Choice(name=label, value=key) for key, label in CONDITIONS.items()]
SORT_CHOICES = [app_commands.Choice(name=label, value=key) for key, label in SORTS.items()]
CURRENCY_CHOICES = [app_commands.Choice(name="GEMS", value="gems"),
                    app_commands.Choice(name="USD", value="usd")]
LIMITS = ImageLimits()


class ListingModal(GatedModal, title="New listing"):
    """Title, description, specifications, tags and up to 10 photos (the command carries the
    category, condition and price). Five components: Discord's limit for a modal."""

    item_title: discord.ui.TextInput = discord.ui.TextInput(
        label="Title", min_length=TITLE_MIN, max_length=TITLE_MAX,
        placeholder="Art deco sapphire ring, 2 ct")
    description: discord.ui.TextInput = discord.ui.TextInput(
        label="Description", style=discord.TextStyle.paragraph, max_length=DESCRIPTION_MAX)
    specs: discord.ui.TextInput = discord.ui.TextInput(
        label="Specifications (one `key: value` per line)", style=discord.TextStyle.paragraph,
        required=False, max_length=SPECS_MAX_CHARS, placeholder="metal: platinum\nsize: 6")
    tags: discord.ui.TextInput = discord.ui.TextInput(
        label="Tags (optional)", required=False, max_length=300,
        placeholder="Comma-separated, like vintage, art-deco")
    photos: discord.ui.Label = discord.ui.Label(
        text="Photos (up to 10)", description="JPEG, PNG or WebP; the first one is the cover",
        component=discord.ui.FileUpload(min_values=0, max_values=MAX_IMAGES, required=False))

    def __init__(self, cog: MarketplaceCog, options: dict):
        super().__init__(timeout=900)
        self.cog, self.options = cog, options

    @property
    def attachments(self) -> list[discord.Attachment]:
        """The photos the member uploaded in the form."""
        upload = self.photos.component
        return list(upload.values) if isinstance(upload, discord.ui.FileUpload) else []

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.cog.create_from_modal(interaction, self)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        from bot.error_handler import handle_interaction_error
        await handle_interaction_error(interaction, error, where="ListingModal")


class MarketplaceCog(DownloadingCog, FeatureCog):
    """The members' marketplace."""

    # /market: browse, search and your own listings (creating one is /list-item).
    market = member_group("market", "Browse, search and manage listings")
    alert = app_commands.Group(name="alert", description="Saved searches that DM you",
                               parent=market)
    wishlist = app_commands.Group(name="wishlist", description="Listings you are watching",
                                  parent=market)
    # Moderators only (Manage Messages by default; re-assignable under Integrations).
    moderation = admin_group("market-admin", "Listing moderation (moderators)", moderators=True)




    # --- creating ------------------------------------------------------------------------------
    @app_commands.command(name="list-item", description="Put an item up for sale")
    @app_commands.guild_only()
    @app_commands.describe(
        category="What kind of item", condition="Its condition", price_gems="Price in GEMS",
        price_usd="Price in USD, like 12.50 (if the server allows USD)",
        collectible="Sell one of your collectible badges, like c3#17 (category: collectibles)")
    @app_commands.choices(condition=CONDITION_CHOICES)
    async def list_item(
        self, interaction: discord.Interaction, category: str, condition: str,
        price_gems: int | None = None, price_usd: app_commands.Range[str, 1, 20] | None = None,
        collectible: app_commands.Range[str, 3, 50] | None = None,
    ):
        services = services_of(interaction)
        # What the command knows is checked before the form opens (no typing lost on a typo).
        await services.marketplace.listings.check_new_listing(
            guild_id_of(interaction), interaction.user.id, category=category,
            condition=condition, price_gems=price_gems, price_usd=price_usd, tags=None,
            image_count=0, collectible=collectible)
        options = {"category": category, "condition": condition, "price_gems": price_gems,
                   "price_usd": price_usd, "collectible": collectible}
        await interaction.response.send_modal(ListingModal(self, options))

    async def create_from_modal(self, interaction: discord.Interaction, modal: ListingModal):
        """Check the form, download and clean the photos, store the draft, show the preview."""
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        attachments, tags = modal.attachments, modal.tags.value or None
        # cheap checks before anything is downloaded (and before the answer is deferred, so a
        # refusal is one private message)
        await services.marketplace.listings.check_new_listing(
            guild_id, interaction.user.id, tags=tags, image_count=len(attachments),
            **modal.options)
        for attachment in attachments:
            if attachment.size > LIMITS.max_bytes:
                raise ImageTooLarge(f"Each image can be at most {LIMITS.max_bytes // 2**20} MB.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        images = await prepare_images(
            [a.url for a in modal.attachments], self.fetch,
            allowed_hosts=self.bot.settings.attachment_hosts, limits=LIMITS)
        listing = await services.marketplace.listings.create_draft(
            guild_id, interaction.user.id, title=modal.item_title.value,
            description=modal.description.value, specs=modal.specs.value, images=images,
            tags=tags, **modal.options)
        settings = await services.settings.get(guild_id)
        hint = await services.marketplace.search.price_hint(guild_id, listing.category, listing.condition)
        embed, files, _ = await detail_parts(self.bot, listing, settings, 0)
        await interaction.followup.send(
            preview_text(listing, hint, settings), embed=embed, files=files,
            view=preview_view(listing.listing_id), ephemeral=True, allowed_mentions=NO_PINGS)

    @list_item.autocomplete("category")
    async def _category_autocomplete(self, interaction: discord.Interaction, current: str):
        return await self._categories(interaction, current)

    async def _categories(self, interaction: discord.Interaction, current: str):
        settings = await services_of(interaction).settings.get(guild_id_of(interaction))
        needle = current.lower().strip()
        return [app_commands.Choice(name=c, value=c) for c in categories(settings)
                if needle in c][:25]

    # --- managing ------------------------------------------------------------------------------
    @market.command(name="edit", description="Change the price, title, description or tags")
    @app_commands.describe(listing="Your listing", price_gems="New GEMS price",
                           price_usd="New USD price", title="New title",
                           description="New description", tags="New tags (replaces them)")
    async def edit(
        self, interaction: discord.Interaction, listing: int, price_gems: int | None = None,
        price_usd: app_commands.Range[str, 1, 20] | None = None,
        title: app_commands.Range[str, 1, 200] | None = None,
        description: app_commands.Range[str, 1, 4000] | None = None,
        tags: app_commands.Range[str, 1, 300] | None = None,
    ):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        updated, notices = await services.marketplace.listings.edit(
            guild_id, interaction.user.id, listing, title=title, description=description,
            tags=tags, price_gems=price_gems, price_usd=price_usd)
        await reply(interaction, f"Updated listing #{updated.listing_id} "
                                 f"**{safe_text(updated.title, limit=100)}**.", ephemeral=True)
        await deliver(self.bot, notices)

    @market.command(name="withdraw", description="Take one of your listings down")
    @app_commands.describe(listing="Your listing")
    async def withdraw(self, interaction: discord.Interaction, listing: int):
        done = await services_of(interaction).marketplace.listings.withdraw(
            guild_id_of(interaction), interaction.user.id, listing)
        await reply(interaction, f"Withdrew listing #{done.listing_id} "
                                 f"**{safe_text(done.title, limit=100)}**.", ephemeral=True)

    @market.command(name="relist", description="Put an expired or withdrawn listing back up")
    @app_commands.describe(listing="Your listing")
    async def relist(self, interaction: discord.Interaction, listing: int):
        result = await services_of(interaction).marketplace.listings.relist(
            guild_id_of(interaction), interaction.user.id, listing)
        text = ("sent to the moderators for approval" if result.needs_approval else "live again")
        await reply(interaction, f"Listing #{listing} is {text}.", ephemeral=True)
        await post_published(self.bot, result)

    @moderation.command(name="queue", description="Listings waiting for approval")
    @moderator_only
    async def queue(self, interaction: discord.Interaction):
        settings = await settings_of(interaction)
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        waiting = await services.marketplace.listings.pending(guild_id, await actor_of(interaction))
        if not waiting:
            await reply(interaction, "No listings are waiting for review.", ephemeral=True)
            return
        first = waiting[0]
        embed, files, _ = await detail_parts(self.bot, first, settings, 0)
        others = ", ".join(f"#{row.listing_id}" for row in waiting[1:])
        text = f"{plural(len(waiting), 'listing')} waiting for review. Oldest first:"
        if others:
            text += f" (then {others} — run `/market-admin queue` again after deciding)"
        await interaction.response.send_message(text, embed=embed, files=files,
                                                view=review_view(first.listing_id),
                                                ephemeral=True, allowed_mentions=NO_PINGS)

    @market.command(name="mine", description="Your listings and their status")
    async def mine(self, interaction: discord.Interaction):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        rows = await services.marketplace.listings.mine(guild_id, interaction.user.id)
        settings = await services.settings.get(guild_id)
        await reply(interaction, embed=mine_embed(rows, settings, services.clock.now()),
                    ephemeral=True)

    @edit.autocomplete("listing")
    @withdraw.autocomplete("listing")
    @relist.autocomplete("listing")
    async def _own_listing_autocomplete(self, interaction: discord.Interaction, current: str):
        rows = await services_of(interaction).marketplace.listings.own_choices(
            guild_id_of(interaction), interaction.user.id, current)
        return [app_commands.Choice(name=_choice_name(r), value=r.listing_id) for r in rows]

    # --- browsing ------------------------------------------------------------------------------
    @market.command(name="browse", description="Browse listings, newest first")
    @app_commands.describe(category="Only this category", sort="Order")
    @app_commands.choices(sort=SORT_CHOICES)
    async def browse(self, interaction: discord.Interaction, category: str | None = None,
                     sort: str = "newest"):
        await self._search(interaction, category=category, sort=sort)

    @market.command(name="search", description="Search listings")
    @app_commands.describe(
        keywords="Words in the title, tags or description", category="Only this category",
        condition="Only this condition", currency="Price filter currency (default GEMS)",
        min_price="Lowest price", max_price="Highest price", seller="Only this seller",
        tags="Comma-separated tags", sort="Order")
    @app_commands.choices(condition=CONDITION_CHOICES, sort=SORT_CHOICES,
                          currency=CURRENCY_CHOICES)
    async def search(
        self, interaction: discord.Interaction,
        keywords: app_commands.Range[str, 1, 100] | None = None, category: str | None = None,
        condition: str | None = None, currency: str = "gems",
        min_price: app_commands.Range[str, 1, 20] | None = None,
        max_price: app_commands.Range[str, 1, 20] | None = None,
        seller: discord.Member | None = None, tags: app_commands.Range[str, 1, 100] | None = None,
        sort: str = "newest",
    ):
        await self._search(interaction, keywords=keywords, category=category,
                           condition=condition, currency=currency, min_price=min_price,
                           max_price=max_price, seller_id=seller.id if seller else None,
                           tags=tags, sort=sort)

    async def _search(self, interaction: discord.Interaction, **options) -> None:
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        settings = await services.settings.get(guild_id)
        query = services.marketplace.search.build_query(settings, **options)
        token = await services.marketplace.search.query_token(guild_id, query)
        await interaction.response.defer(ephemeral=True, thinking=True)
        embed, files, view = await results_parts(interaction, token, 1)
        await interaction.followup.send(embed=embed, files=files, view=view, ephemeral=True,
                                        allowed_mentions=NO_PINGS)

    @browse.autocomplete("category")
    @search.autocomplete("category")
    async def _browse_category_autocomplete(self, interaction: discord.Interaction, current: str):
        return await self._categories(interaction, current)

    @market.command(name="view", description="Show one listing")
    @app_commands.describe(listing="Listing number, like 42")
    async def view(self, interaction: discord.Interaction,
                   listing: app_commands.Range[int, 1, 10**12]):
        await show_listing(interaction, listing)

    # --- alerts --------------------------------------------------------------------------------
    @alert.command(name="add", description="DM me when a matching listing is published")
    @app_commands.describe(keywords="Words that must appear", category="Only this category",
                           max_price="Highest GEMS price")
    async def alert_add(self, interaction: discord.Interaction,
                        keywords: app_commands.Range[str, 1, 100] | None = None,
                        category: str | None = None,
                        max_price: app_commands.Range[int, 1, MAX_AMOUNT] | None = None):
        made = await services_of(interaction).marketplace.watch.add_alert(
            guild_id_of(interaction), interaction.user.id, keywords=keywords, category=category,
            max_price_gems=max_price)
        await reply(interaction, f"Alert #{made.alert_id} saved: {_alert_text(made)}. "
                                 "I'll DM you when a matching listing is published.",
                    ephemeral=True)

    @alert_add.autocomplete("category")
    async def _alert_category_autocomplete(self, interaction: discord.Interaction, current: str):
        return await self._categories(interaction, current)

    @alert.command(name="list", description="Your saved alerts")
    async def alert_list(self, interaction: discord.Interaction):
        rows = await services_of(interaction).marketplace.watch.alerts(guild_id_of(interaction),
                                                                  interaction.user.id)
        text = "\n".join(f"**#{a.alert_id}** {_alert_text(a)}" for a in rows)
        await reply(interaction, text or "You have no alerts. Add one with `/market alert add`.",
                    ephemeral=True)

    @alert.command(name="remove", description="Delete one of your alerts")
    @app_commands.describe(alert="Alert number from /market alert list")
    async def alert_remove(self, interaction: discord.Interaction,
                           alert: app_commands.Range[int, 1, 1000]):
        await services_of(interaction).marketplace.watch.remove_alert(
            guild_id_of(interaction), interaction.user.id, alert)
        await reply(interaction, f"Alert #{alert} removed.", ephemeral=True)

    # --- wishlist ------------------------------------------------------------------------------
    @wishlist.command(name="view", description="Listings on your wishlist")
    async def wishlist_view(self, interaction: discord.Interaction):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        rows = await services.marketplace.watch.wishlist(guild_id, interaction.user.id)
        settings = await services.settings.get(guild_id)
        await reply(interaction, embed=wishlist_embed(rows, settings), ephemeral=True)

    @wishlist.command(name="remove", description="Remove a listing from your wishlist")
    @app_commands.describe(listing="Listing number")
    async def wishlist_remove(self, interaction: discord.Interaction,
                              listing: app_commands.Range[int, 1, 10**12]):
        await services_of(interaction).marketplace.watch.unwish(
            guild_id_of(interaction), interaction.user.id, listing)
        await reply(interaction, f"Removed #{listing} from your wishlist.", ephemeral=True)

    @wishlist_remove.autocomplete("listing")
    async def _wishlist_autocomplete(self, interaction: discord.Interaction, current: str):
        rows = await services_of(interaction).marketplace.watch.wishlist(
            guild_id_of(interaction), interaction.user.id)
        needle = current.lower().lstrip("#")
        return [app_commands.Choice(name=_choice_name(r), value=r.listing_id) for r in rows
                if needle in str(r.listing_id) or needle in r.title.lower()][:25]

    # --- the sweep job -------------------------------------------------------------------------
    async def sweep(self) -> None:
        """Expire listings, send reminders, drop abandoned drafts; then DM (job body)."""
        notices = await self.bot.services.marketplace.sweeps.sweep()
        for notice in notices:  # DMs go out from the process owning the guild's shard
            try:
                await self.bot.guild_work.hand_over("market-dm", notice.listing.guild_id, notice)
            except Exception:
                log.exception("could not deliver marketplace notice %s", notice.kind)

    async def after_review(self, result: PublishResult) -> None:
        """Guild work `market-reviewed`: a listing approved elsewhere (the web dashboard) is
        announced and its seller told, as the Approve button does."""
        await post_published(self.bot, result)

    async def deliver_one(self, notice: Notice) -> None:
        """Guild work `market-dm`: one sweep DM (expiry, reminder, alert digest)."""
        await deliver(self.bot, [notice])


def _choice_name(listing: Listing) -> str:
    # Autocomplete names are plain text (no markdown rendering, no pings).
    return f"#{listing.listing_id} {listing.title} ({listing.status})"[:100]


def _alert_text(alert) -> str:
    parts = []
    if alert.keywords:
        parts.append("words: " + " ".join(alert.keywords))
    if alert.category:
        parts.append(f"category: {safe_text(alert.category, limit=40)}")
    if alert.max_price_gems is not None:
        parts.append(f"max {alert.max_price_gems:,} GEMS")
    return ", ".join(parts)
