"""Embeds and texts for the marketplace (presentation only). All user text goes through safe_text."""

from __future__ import annotations

from datetime import datetime

import discord

from cogs._shared.interaction import safe_text
from economy.core.settings import GuildSettings
from economy.core.wording import noun
from economy.marketplace.models import (
    CONDITIONS,
    SORTS,
    Listing,
    ListingQuery,
    Notice,
    PriceHint,
    SearchPage,
    format_usd,
)

MARKET_COLOUR = discord.Colour.from_rgb(255, 176, 59)
STATUS_LABELS = {
    "draft": "Draft (not published)", "pending": "Waiting for moderator approval",
    "active": "For sale", "rejected": "Rejected", "withdrawn": "Withdrawn",
    "expired": "Expired", "reserved": "Reserved (trade in progress)", "sold": "Sold",
}


def price_text(listing: Listing, s: GuildSettings) -> str:
    """`💎 500 GEMS · $12.50` (whichever prices the listing has)."""
    parts = []
    if listing.price_gems is not None:
        parts.append(s.money(listing.price_gems))
    if listing.price_usd_cents is not None:
        parts.append(format_usd(listing.price_usd_cents))
    return " · ".join(parts) or "—"


def image_name(listing: Listing, index: int) -> str:
    """File name of a listing image attachment."""
    return f"listing-{listing.listing_id}-{index + 1}.jpg"


def listing_embed(
    listing: Listing, s: GuildSettings, *, image_index: int | None = None,
    seller_rating: str | None = None, title_prefix: str = "", now: datetime | None = None,
) -> discord.Embed:
    """The detail card of a listing; `image_index` shows that image (attached by the caller);
    with `now`, a boost that runs then is shown ("Boosted until ...")."""
    embed = discord.Embed(
        title=f"{title_prefix}#{listing.listing_id} · {safe_text(listing.title, limit=200)}",
        description=safe_text(listing.description, limit=1500), colour=MARKET_COLOUR)
    embed.add_field(name="Price", value=price_text(listing, s))
    embed.add_field(name="Condition", value=CONDITIONS.get(listing.condition, listing.condition))
    embed.add_field(name="Category", value=safe_text(listing.category, limit=40))
    seller = f"<@{listing.seller_id}>"
    if seller_rating:
        seller += f"\n{safe_text(seller_rating, limit=100)}"
    embed.add_field(name="Seller", value=seller)
    if listing.tags:
        embed.add_field(name="Tags", value=safe_text(" ".join(f"#{t}" for t in listing.tags)))
    if listing.status != "active":
        embed.add_field(name="Status", value=STATUS_LABELS.get(listing.status, listing.status))
    if listing.specs:
        specs = "\n".join(f"**{safe_text(k, limit=40)}:** {safe_text(v, limit=200)}"
                          for k, v in listing.specs)
        embed.add_field(name="Specifications", value=specs[:1024], inline=False)
    footer = []
    if image_index is not None and listing.images:
        embed.set_image(url=f"attachment://{image_name(listing, image_index)}")
        footer.append(f"Image {image_index + 1}/{len(listing.images)}")
    footer.append(f"{listing.views} views · {listing.wishlist_count} on wishlists")
    embed.set_footer(text=" · ".join(footer))
    if listing.expires_at and listing.status == "active":
        embed.add_field(name="Expires", value=discord.utils.format_dt(listing.expires_at, "R"))
    boost_end = listing.boost_end(now) if now is not None and listing.status == "active" else None
    if boost_end is not None:
        embed.add_field(name="🚀 Boosted",
                        value=f"boosted until {discord.utils.format_dt(boost_end, 'R')}")
    return embed


def hint_text(hint: PriceHint | None, s: GuildSettings) -> str:
    """The price hint line under a preview."""
    if hint is None:
        return ""
    return (f"Price hint: comparable items sold for a median of {s.money(hint.median)} "
            f"(range {hint.low:,}–{hint.high:,}, {hint.sales} sales).")


def results_embed(page: SearchPage, query: ListingQuery, s: GuildSettings,
                  now: datetime | None = None) -> discord.Embed:
    """One page of results, numbered like the tiles of the grid image; listings boosted at
    `now` carry a 🚀 (they come first)."""
    embed = discord.Embed(title="Marketplace", colour=MARKET_COLOUR)
    lines = []
    for number, listing in enumerate(page.rows, 1):
        boosted = " 🚀" if now is not None and listing.boost_end(now) is not None else ""
        lines.append(f"**{number}.**{boosted} #{listing.listing_id} · "
                     f"{safe_text(listing.title, limit=60)}"
                     f" — {price_text(listing, s)} · "
                     f"{CONDITIONS.get(listing.condition, listing.condition)}")
    embed.description = "\n".join(lines) or "Nothing matches. Try fewer filters."
    if page.rows:
        embed.set_image(url="attachment://results.jpg")
    total = f"{page.total:,}+" if page.total_capped else f"{page.total:,}"
    embed.set_footer(text=f"Page {page.page}/{page.pages}{'+' if page.total_capped else ''} · "
                          f"{total} {noun(page.total, 'listing')} · {describe_query(query)}")
    return embed


def describe_query(query: ListingQuery) -> str:
    """A short, plain summary of a query for the footer (no markdown is rendered there)."""
    parts = []
    if query.keywords:
        parts.append("“" + " ".join(query.keywords) + "”")
    if query.category:
        parts.append(query.category)
    if query.condition:
        parts.append(CONDITIONS.get(query.condition, query.condition))
    if query.tags:
        parts.append(" ".join(f"#{t}" for t in query.tags))
    if query.price_min is not None or query.price_max is not None:
        unit = "USD cents" if query.currency == "usd" else "GEMS"
        parts.append(f"{query.price_min or 0}–{query.price_max or '∞'} {unit}")
    if query.seller_id:
        parts.append("one seller")
    parts.append(SORTS[query.sort])
    return " · ".join(parts)


def mine_embed(rows: list[Listing], s: GuildSettings, now: datetime | None = None) -> discord.Embed:
    """A member's own listings with their status (and the boosts that run at `now`)."""
    embed = discord.Embed(title="Your listings", colour=MARKET_COLOUR)
    embed.description = "\n".join(
        f"#{r.listing_id} · {safe_text(r.title, limit=60)} — {price_text(r, s)} · "
        f"**{STATUS_LABELS.get(r.status, r.status)}**" + _boost_note(r, now)
        for r in rows) or "You have no listings yet. Start with `/list-item`."
    return embed


def _boost_note(listing: Listing, now: datetime | None) -> str:
    end = listing.boost_end(now) if now is not None and listing.status == "active" else None
    return f" · 🚀 boosted until {discord.utils.format_dt(end, 'R')}" if end else ""


def wishlist_embed(rows: list[Listing], s: GuildSettings) -> discord.Embed:
    """A member's wishlist."""
    embed = discord.Embed(title="Your wishlist", colour=MARKET_COLOUR)
    embed.description = "\n".join(
        f"#{r.listing_id} · {safe_text(r.title, limit=60)} — {price_text(r, s)}"
        + ("" if r.status == "active" else f" · {STATUS_LABELS.get(r.status, r.status)}")
        for r in rows) or "Your wishlist is empty. Use the ♡ Wishlist button on a listing."
    return embed


def notice_text(notice: Notice, s: GuildSettings, guild_name: str) -> str:
    """The DM for a notice (listing titles escaped; nothing here can ping)."""
    listing = notice.listing
    name = f"#{listing.listing_id} **{safe_text(listing.title, limit=100)}**"
    where = f" in {safe_text(guild_name, limit=60)}"
    if notice.kind == "approved":
        return f"Your listing {name} was approved and is now live{where}."
    if notice.kind == "rejected":
        return (f"Your listing {name} was not approved{where}. Reason: "
                f"{safe_text(notice.detail or '', limit=300)}")
    if notice.kind == "expired":
        return f"Your listing {name} expired{where}. Use `/market relist` to put it back up."
    if notice.kind == "expiring":
        return (f"Your listing {name} expires "
                f"{discord.utils.format_dt(listing.expires_at, 'R') if listing.expires_at else 'soon'}"
                f"{where}. Relist it after it expires if it hasn't sold.")
    if notice.kind == "wish_expiring":
        return f"A listing on your wishlist, {name}, expires soon{where} ({price_text(listing, s)})."
    if notice.kind == "price_drop":
        return f"Price drop on your wishlist{where}: {name} is now {price_text(listing, s)}."
    if notice.kind == "alert":
        if not notice.more:
            return (f"New listing matching your alert #{notice.detail}{where}: {name} — "
                    f"{price_text(listing, s)}. Use `/market view listing:{listing.listing_id}`.")
        shown = (listing, *notice.more)
        lines = [f"• #{item.listing_id} **{safe_text(item.title, limit=80)}** — {price_text(item, s)}"
                 for item in shown[:15]]
        if len(shown) > 15:
            lines.append(f"… and {len(shown) - 15} more: `/market search`.")
        return (f"{len(shown)} new listings match your alerts (#{notice.detail}){where}:\n"
                + "\n".join(lines) + "\nUse `/market view listing:<id>` to see one.")
    return f"Update about {name}{where}."
