"""Keyword postings carry their listing's keyword signature (`m0`..`m3`, see
economy/repos/listing_terms.py), so a search whose every word is common filters the rarest word's
postings by the other words' bits inside the store instead of walking every listing.

Postings written before this version lack the fields: when any posting lacks them, the postings
of every active listing are rewritten by the (linear, re-runnable) backfill of migration 0004.
A database whose postings already have them (a fresh one: 0004 writes them) is left alone.
"""

import importlib
import logging

from economy.repos.base import find_first
from economy.repos.listing_terms import MASK_FIELDS

log = logging.getLogger(__name__)


async def up(db) -> None:
    """Rewrite the postings when some lack the signature fields."""
    old = await find_first(db["listing_terms"], {MASK_FIELDS[0]: {"$exists": False}})
    if old is None:
        return
    terms = importlib.import_module("migrations.0004_listing_terms")
    written = await terms.backfill(db)
    log.info("migration 0010: %d postings rewritten with signatures", written)
