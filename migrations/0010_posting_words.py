"""Keyword postings carry their listing's whole keyword set (`w`, see
economy/marketplace/terms_repo.py), so a search whose every word is common walks only the rarest
word's postings, with the other words as equality filters evaluated inside the store.

Postings written before this version lack `w`: when any posting lacks it, the postings of every
active listing are rewritten by the (linear, re-runnable) backfill of migration 0004. A database
whose postings already have it (a fresh one: 0004 writes it) is left alone.
"""

import importlib
import logging

from economy.repos.base import find_first
from migrations._frozen.listing_terms import WORDS_FIELD

log = logging.getLogger(__name__)


async def up(db) -> None:
    """Rewrite the postings when some lack the keyword set."""
    old = await find_first(db["listing_terms"], {WORDS_FIELD: {"$exists": False}})
    if old is None:
        return
    terms = importlib.import_module("migrations.0004_listing_terms")
    written = await terms.backfill(db)
    log.info("migration 0010: %d postings rewritten with their keyword sets", written)
