"""Keyword postings as migrations 0004 and 0010 write them (frozen copy).

Copied from economy/marketplace/terms_repo.py as of migration 0010 (postings carry the
listing's whole keyword set under `w`). Do not edit: a later change of the live posting shape
comes with its own migration.
"""

from __future__ import annotations

from typing import Any

Doc = dict[str, Any]

#: Listing fields copied onto each posting (filters and sort keys of a search).
POSTING_FIELDS = ("category", "condition", "price_gems", "price_usd_cents", "listed_ts",
                  "popularity")

#: The posting field holding the listing's keyword set {word: 1} (added by migration 0010).
WORDS_FIELD = "w"


def posting_id(guild_id: int, listing_id: int, term: str) -> str:
    """The deterministic `_id` of a posting."""
    return f"{guild_id}:{listing_id}:{term}"


def postings_of(listing: Doc | None) -> list[Doc]:
    """The postings a listing document should have (none unless it is active)."""
    if not listing or listing.get("status") != "active":
        return []
    guild_id, listing_id = listing["guild_id"], listing["listing_id"]
    terms = list(dict.fromkeys(listing.get("keywords") or ()))
    base = {**{f: listing.get(f) for f in POSTING_FIELDS}, WORDS_FIELD: dict.fromkeys(terms, 1)}
    return [{"_id": posting_id(guild_id, listing_id, term), "guild_id": guild_id, "term": term,
             "listing_id": listing_id, "lid": listing["_id"], **base}
            for term in terms]
