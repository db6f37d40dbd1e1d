"""Persistent marketplace buttons (DynamicItem: the state lives in the custom id) and modals.

Every button keeps working after a restart: its custom id names the listing (and page/query), and
the service re-checks who may act. Buy (`trade:buy:{id}`) is rendered here but handled by the
trades feature.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from typing import Any, ClassVar

import discord

from bot.error_handler import handle_interaction_error
from bot.render.grid import GRIDS, render_grid
from cogs._shared.custom_ids import num, parse_id
from cogs._shared.interaction import (
    NO_PINGS,
    actor_of,
    guild_id_of,
    require_moderator,
    safe_text,
    services_of,
)
from cogs._shared.notify import send_dm
from cogs._shared.ui import GatedModal, RoutedView, SafeButton
from cogs.marketplace._render import (
    hint_text,
    image_name,
    listing_embed,
    notice_text,
    results_embed,
)
from cogs.payments import PayUsdButton
from cogs.trades import BuyButton
from economy.core.settings import GuildSettings
from economy.marketplace.models import Listing, Notice, PublishResult

log = logging.getLogger(__name__)


# --- permissions and delivery -----------------------------------------------------------------
async def deliver(client: discord.Client, notices: list[Notice]) -> int:
    """DM each notice; closed or turned-off DMs are skipped. Returns how many were delivered."""
    sent = 0
    for notice in notices:
        guild = client.get_guild(notice.listing.guild_id)
        settings = await client.services.settings.get(notice.listing.guild_id)  # type: ignore[attr-defined]
        text = notice_text(notice, settings, guild.name if guild else "the server")
        sent += await send_dm(client, notice.listing.guild_id, notice.user_id, text)
    return sent


async def post_published(client: discord.Client, result: PublishResult) -> None:
    """Announce a live listing, or queue a pending one for moderators; then send the DMs."""
    listing = result.listing
    settings = await client.services.settings.get(listing.guild_id)  # type: ignore[attr-defined]
    try:
        if result.needs_approval:
            channel = _channel(client, settings.marketplace_queue_channel_id)
            if channel is not None:
                embed, files, _ = await detail_parts(client, listing, settings, 0)
                view = review_view(listing.listing_id)
                await channel.send(content="New listing waiting for review:", embed=embed,
                                   files=files, view=view, allowed_mentions=NO_PINGS)
        else:
            channel = _channel(client, settings.marketplace_channel_id)
            if channel is not None:
                embed, files, view = await detail_parts(client, listing, settings, 0)
                await channel.send(content="New listing!", embed=embed, files=files, view=view,
                                   allowed_mentions=NO_PINGS)
    except discord.HTTPException:
        log.warning("could not post listing %s in guild %s", listing.listing_id, listing.guild_id)
    await deliver(client, result.notices)


def review_view(listing_id: int) -> discord.ui.View:
    """Approve / Reject for a pending listing (moderators)."""
    view = RoutedView()
    view.add_item(ApproveButton(listing_id))
    view.add_item(RejectButton(listing_id))
    return view


def _channel(client: discord.Client, channel_id: int | None) -> Any:
    return client.get_channel(channel_id) if channel_id else None


# --- detail view ------------------------------------------------------------------------------
async def detail_parts(
    client: discord.Client, listing: Listing, settings: GuildSettings, index: int,
) -> tuple[discord.Embed, list[discord.File], discord.ui.View]:
    """Embed (with the seller's trading reputation), attached image and buttons for a listing
    showing image `index`."""
    services = client.services  # type: ignore[attr-defined]
    rating = await services.ratings.summary(listing.guild_id, listing.seller_id)
    seller_rating = rating.render()
    files = []
    shown: int | None = None
    if listing.images:
        shown = max(0, min(index, len(listing.images) - 1))
        data = await services.marketplace.search.image(listing.guild_id,
                                                listing.images[shown].image_id)
        files.append(discord.File(io.BytesIO(data), filename=image_name(listing, shown)))
    embed = listing_embed(listing, settings, image_index=shown, seller_rating=seller_rating,
                          now=services.clock.now())
    return embed, files, listing_view(listing, shown or 0)


def listing_view(listing: Listing, index: int) -> discord.ui.View:
    """Gallery, Wishlist and (for GEMS-priced active listings) Buy buttons."""
    view = RoutedView()
    if len(listing.images) > 1:
        count = len(listing.images)
        view.add_item(GalleryButton(listing.listing_id, (index - 1) % count, "prev"))
        view.add_item(GalleryButton(listing.listing_id, (index + 1) % count, "next"))
    if listing.status in ("active", "reserved"):
        view.add_item(WishlistButton(listing.listing_id))
    if listing.price_gems is not None and listing.status == "active":
        view.add_item(BuyButton(listing.listing_id))  # the escrow purchase (cogs/trades)
    if listing.price_usd_cents is not None and listing.status == "active":
        # Pay by card (cogs/payments); with both prices the buyer chooses.
        view.add_item(PayUsdButton(listing.listing_id, listing.price_usd_cents))
    return view


async def show_listing(interaction: discord.Interaction, listing_id: int, index: int = 0, *,
                       edit: bool = False) -> None:
    """Answer with a listing's detail (ephemeral), or edit the message in place."""
    services, guild_id = services_of(interaction), guild_id_of(interaction)
    settings = await services.settings.get(guild_id)
    listing = await services.marketplace.search.view(guild_id, listing_id,
                                                     await actor_of(interaction))
    embed, files, view = await detail_parts(interaction.client, listing, settings, index)
    if edit:
        await interaction.response.edit_message(embed=embed, attachments=files, view=view)
    else:
        await interaction.response.send_message(embed=embed, files=files, view=view,
                                                ephemeral=True, allowed_mentions=NO_PINGS)


# --- result pages -----------------------------------------------------------------------------
async def results_parts(
    interaction: discord.Interaction, token: str, page: int,
) -> tuple[discord.Embed, list[discord.File], discord.ui.View]:
    """Embed, grid image and buttons for page `page` of the query behind `token`."""
    services, guild_id = services_of(interaction), guild_id_of(interaction)
    settings = await services.settings.get(guild_id)
    query = await services.marketplace.search.query_from_token(guild_id, token)
    result = await services.marketplace.search.search(guild_id, query, page=page)
    files = []
    if result.rows:
        # Image ids are immutable (a new photo gets a new id), so they name the grid's content.
        shown = tuple(r.images[0].image_id if r.images else None for r in result.rows)

        async def render() -> bytes:
            thumbs = [await services.marketplace.search.image(guild_id, image_id, thumb=True)
                      if image_id else None for image_id in shown]
            return await asyncio.to_thread(render_grid, thumbs)

        grid = await GRIDS.get((guild_id, shown), render)
        files.append(discord.File(io.BytesIO(grid), filename="results.jpg"))
    view = RoutedView()
    for number, listing in enumerate(result.rows, 1):
        view.add_item(ShowButton(listing.listing_id, number))
    if result.pages > 1:
        view.add_item(ResultsButton(max(1, result.page - 1), "prev", token,
                                    disabled=result.page <= 1))
        view.add_item(ResultsButton(min(result.pages, result.page + 1), "next", token,
                                    disabled=result.page >= result.pages))
    return results_embed(result, query, settings, services.clock.now()), files, view


class ListingButton(SafeButton, template=r"__abstract_listing_button__"):
    """A button acting on one listing; custom id `{prefix}:{listing_id}`."""

    prefix: ClassVar[str] = ""
    label: ClassVar[str] = ""
    style: ClassVar[discord.ButtonStyle] = discord.ButtonStyle.secondary

    def __init__(self, listing_id: int) -> None:
        super().__init__(discord.ui.Button(label=self.label, style=self.style,
                                           custom_id=f"{self.prefix}:{listing_id}"))
        self.listing_id = listing_id

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]):
        return cls(parse_id(match["id"]))


class ResultsButton(SafeButton, template=rf"mkt:r:{num('page')}:(?P<dir>prev|next):(?P<token>.+)"):
    """Prev/Next on a result page; the query travels in the custom id (or a saved-query id)."""

    def __init__(self, page: int, direction: str, token: str, *, disabled: bool = False) -> None:
        super().__init__(discord.ui.Button(
            label="◀ Prev" if direction == "prev" else "Next ▶", disabled=disabled,
            style=discord.ButtonStyle.secondary, custom_id=f"mkt:r:{page}:{direction}:{token}"))
        self.page, self.token = page, token

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]):
        return cls(parse_id(match["page"]), match["dir"], match["token"])

    async def run(self, interaction: discord.Interaction) -> None:
        embed, files, view = await results_parts(interaction, self.token, self.page)
        await interaction.response.edit_message(embed=embed, attachments=files, view=view)


class ShowButton(SafeButton, template=rf"mkt:show:{num('id')}:{num('n')}"):
    """Open one result's detail (numbered like the grid tiles)."""

    def __init__(self, listing_id: int, number: int) -> None:
        super().__init__(discord.ui.Button(label=str(number), style=discord.ButtonStyle.primary,
                                           custom_id=f"mkt:show:{listing_id}:{number}"))
        self.listing_id = listing_id

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]):
        return cls(parse_id(match["id"]), parse_id(match["n"]))

    async def run(self, interaction: discord.Interaction) -> None:
        await show_listing(interaction, self.listing_id)


class GalleryButton(SafeButton, template=rf"mkt:img:{num('id')}:{num('index')}:(?P<dir>prev|next)"):
    """Previous/next image; edits a private view, or opens one from a public announcement."""

    def __init__(self, listing_id: int, index: int, direction: str) -> None:
        super().__init__(discord.ui.Button(
            label="◀ Image" if direction == "prev" else "Image ▶",
            style=discord.ButtonStyle.secondary,
            custom_id=f"mkt:img:{listing_id}:{index}:{direction}"))
        self.listing_id, self.index = listing_id, index

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]):
        return cls(parse_id(match["id"]), parse_id(match["index"]), match["dir"])

    async def run(self, interaction: discord.Interaction) -> None:
        message = interaction.message
        private = message is not None and message.flags.ephemeral
        await show_listing(interaction, self.listing_id, self.index, edit=private)


class WishlistButton(ListingButton, template=rf"mkt:wish:{num('id')}"):
    """Add a listing to the clicker's wishlist."""

    prefix, label, style = "mkt:wish", "♡ Wishlist", discord.ButtonStyle.secondary

    async def run(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        added = await services.marketplace.watch.wish(guild_id_of(interaction), interaction.user.id,
                                                self.listing_id)
        text = (f"Added #{self.listing_id} to your wishlist: you'll hear about price drops "
                "and when it is about to expire." if added
                else f"#{self.listing_id} is already on your wishlist.")
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)


class PublishButton(ListingButton, template=rf"mkt:pub:{num('id')}"):
    """Publish a previewed draft (only its seller; the service checks)."""

    prefix, label, style = "mkt:pub", "Publish", discord.ButtonStyle.success

    async def run(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        result = await services.marketplace.listings.publish(guild_id_of(interaction),
                                                    interaction.user.id, self.listing_id)
        text = (f"Listing #{self.listing_id} was sent to the moderators for approval; "
                "you'll get a DM when it is reviewed." if result.needs_approval
                else f"Listing #{self.listing_id} is live! Find it with `/market browse`.")
        await interaction.response.edit_message(content=text, embed=None, attachments=[],
                                                view=None)
        await post_published(interaction.client, result)


class CancelButton(ListingButton, template=rf"mkt:cancel:{num('id')}"):
    """Discard a previewed draft."""

    prefix, label, style = "mkt:cancel", "Cancel", discord.ButtonStyle.danger

    async def run(self, interaction: discord.Interaction) -> None:
        await services_of(interaction).marketplace.listings.cancel_draft(
            guild_id_of(interaction), interaction.user.id, self.listing_id)
        await interaction.response.edit_message(content="Draft discarded; nothing was listed.",
                                                embed=None, attachments=[], view=None)


class ApproveButton(ListingButton, template=rf"mkt:approve:{num('id')}"):
    """A moderator approves a pending listing."""

    prefix, label, style = "mkt:approve", "Approve", discord.ButtonStyle.success

    async def run(self, interaction: discord.Interaction) -> None:
        settings = await require_moderator(interaction)
        result = await services_of(interaction).marketplace.listings.approve(
            guild_id_of(interaction), await actor_of(interaction), self.listing_id)
        await interaction.response.edit_message(
            content=f"Approved by {interaction.user.mention}.", view=None,
            embed=_reviewed_embed(result.listing, settings), allowed_mentions=NO_PINGS)
        await post_published(interaction.client, result)


class RejectButton(ListingButton, template=rf"mkt:reject:{num('id')}"):
    """A moderator rejects a pending listing (asks for a reason first)."""

    prefix, label, style = "mkt:reject", "Reject", discord.ButtonStyle.danger

    async def run(self, interaction: discord.Interaction) -> None:
        await require_moderator(interaction)
        await interaction.response.send_modal(RejectModal(self.listing_id))


class RejectModal(GatedModal, title="Reject listing"):
    """The reason the seller is told."""

    reason: discord.ui.TextInput = discord.ui.TextInput(
        label="Reason (sent to the seller)", style=discord.TextStyle.paragraph,
        min_length=3, max_length=300)

    def __init__(self, listing_id: int) -> None:
        super().__init__(custom_id=f"mkt:rejectmodal:{listing_id}")
        self.listing_id = listing_id

    async def on_submit(self, interaction: discord.Interaction) -> None:
        settings = await require_moderator(interaction)
        notice = await services_of(interaction).marketplace.listings.reject(
            guild_id_of(interaction), await actor_of(interaction), self.listing_id,
            self.reason.value)
        await interaction.response.edit_message(
            content=f"Rejected by {interaction.user.mention}: {safe_text(notice.detail or '')}",
            view=None, embed=_reviewed_embed(notice.listing, settings), allowed_mentions=NO_PINGS)
        await deliver(interaction.client, [notice])

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await handle_interaction_error(interaction, error, where="RejectModal")


def _reviewed_embed(listing: Listing, settings: GuildSettings) -> discord.Embed:
    # The queue message keeps its attached photo; only the card's status changes.
    return listing_embed(listing, settings, image_index=0 if listing.images else None)


def preview_view(listing_id: int) -> discord.ui.View:
    """Publish / Cancel under a draft preview."""
    view = RoutedView()
    view.add_item(PublishButton(listing_id))
    view.add_item(CancelButton(listing_id))
    return view


def preview_text(listing: Listing, hint: Any, settings: GuildSettings) -> str:
    """The line above a draft preview."""
    text = "Here is your listing preview. Publish it, or cancel to discard it."
    line = hint_text(hint, settings)
    return f"{text}\n{line}" if line else text


ALL_ITEMS = (ResultsButton, ShowButton, GalleryButton, WishlistButton, PublishButton,
             CancelButton, ApproveButton, RejectButton)
