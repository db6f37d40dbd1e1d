"""A member's data rights: get a copy of their data, or be anonymised (/privacy).

Deletion anonymises instead of erasing money history: every mention of the member in the guild
(integer ids anywhere in a document, the id inside strings such as idempotency keys and string
`_id`s) is replaced by a per-guild tombstone account id (a negative number, so a system account:
never on leaderboards). Ledger entries, their sums and every unique key stay as they were, so
totals and the audit stay exact. Personal documents (wallets, preferences, saved searches,
wishlists, alerts, mentorship profiles and the like) are deleted; the member's remaining
balance stays on the tombstone account, out of circulation. Published listings are withdrawn
first; open trades, escrow holds and live mentorships block deletion until settled.

Rewards not paid yet are forfeited (FORFEITS): participation records (check-ins, completions,
season results) stay as anonymous records, and nothing more is ever paid to the tombstone — the
ledger refuses rewards, earnings, grants and gifts to it (economy/core/ledger.py) and every feature
that pays later skips it. Escrow settlements of the member's own money are unaffected (and open
ones block deletion anyway).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from economy.core.clock import Clock
from economy.core.errors import InvalidInput, NotPermitted
from economy.core.models import TOMBSTONE_BASE
from economy.marketplace.listings import ListingService
from economy.marketplace.repo import ListingRepo
from economy.mentorship.repo import MentorshipRepo
from economy.privacy.repo import Change, ChangedMeanwhile, PrivacyRepo, export_json
from economy.registry import personal_collections, personal_slot_kinds, shared_collections
from economy.repos.ledger_repo import LedgerRepo
from economy.trades.repo import TradeRepo

#: Documents that are the member's personal data: deleted, not re-pointed.
PERSONAL_COLLECTIONS = personal_collections()  # declared by each feature (economy/registry.py)
#: Cap places (`cap_slots`) of personal things: deleted with them. The others (open listings
#: kept as drafts) follow their holder to the tombstone.
PERSONAL_SLOT_KINDS = personal_slot_kinds()
#: Documents about many members at once (rollups): never exported to one of them.
SHARED_COLLECTIONS = shared_collections()
OPEN_TRADE_STATUSES = ("offered", "reserved", "delivered", "disputed")
LIVE_MENTORSHIP_STATUSES = ("proposed", "active")
#: What a member gives up by deleting (said in /privacy delete's question and confirmation): the
#: anonymous account is never paid again (the ledger refuses it, features skip it).
FORFEITS = ("You forfeit every reward not paid yet: event completion rewards and prizes, goal "
            "rewards, challenge and competition prizes, mentorship and guide rewards, season "
            "prizes and reward roles. Nothing more is ever paid to the anonymous account.")
#: Largest data copy sent as one file (Discord's attachment limit is 10 MiB).
MAX_EXPORT_BYTES = 8 * 1024 * 1024


def tombstone_id(number: int) -> int:
    """The account id of the `number`-th deleted member of a guild."""
    return TOMBSTONE_BASE - number


@dataclass(frozen=True)
class DeletionPreview:
    """What `/privacy delete` would do, or why it can't yet."""

    balance: int
    listings_to_withdraw: tuple[int, ...]
    blockers: tuple[str, ...] = ()


@dataclass
class DeletionResult:
    """What a deletion changed."""

    tombstone: int
    forfeited: int
    listings_withdrawn: list[int] = field(default_factory=list)
    rewritten: int = 0
    deleted: int = 0


class PrivacyService:
    """Copies and anonymisation of a member's data in one guild."""

    def __init__(self, repo: PrivacyRepo, ledger_repo: LedgerRepo, trades: TradeRepo,
                 listings: ListingRepo, marketplace: ListingService,
                 mentorship: MentorshipRepo, clock: Clock) -> None:
        self._repo = repo
        self._ledger = ledger_repo
        self._trades = trades
        self._listings = listings
        self._marketplace = marketplace
        self._mentorship = mentorship
        self._clock = clock

    # --- export ------------------------------------------------------------------------------
    async def export(self, guild_id: int, user_id: int) -> bytes:
        """The member's data in this guild as a JSON document (UTF-8 bytes).

        Raises: InvalidInput.
        """
        found = await self._mentions(guild_id, user_id)
        body = {"guild_id": guild_id, "user_id": user_id,
                "exported_at": self._clock.now().isoformat(),
                "collections": {name: docs for name, docs in found.items()
                                if docs and name not in SHARED_COLLECTIONS}}
        text = export_json(body)
        data = text.encode()
        if len(data) > MAX_EXPORT_BYTES:
            raise InvalidInput("Your data is larger than one Discord file; ask a server admin "
                               "for a copy (`./gems export --guild`).")
        return data

    # --- delete ------------------------------------------------------------------------------
    async def preview(self, guild_id: int, user_id: int) -> DeletionPreview:
        """What deletion would change and what blocks it now.

        Raises: nothing expected.
        """
        blockers = []
        trades = await self._trades.for_member(guild_id, user_id, list(OPEN_TRADE_STATUSES))
        if trades:
            numbers = ", ".join(f"#{t['trade_id']}" for t in trades[:5])
            blockers.append(f"open trades ({numbers}): finish or cancel them first")
        account = await self._ledger.account(guild_id, user_id) or {}
        if account.get("held", 0):
            blockers.append(f"{account['held']:,} GEMS held in escrow: settle those trades first")
        for role in ("mentee", "mentor"):
            pairs = await self._mentorship.pairs_of(guild_id, user_id, role=role)
            if any(p.get("status") in LIVE_MENTORSHIP_STATUSES for p in pairs):
                blockers.append(f"a live mentorship (as {role}): end it first")
        listings = await self._listings.by_seller(guild_id, user_id, ("pending", "active"),
                                                  limit=1000)
        return DeletionPreview(
            balance=int(account.get("balance", 0)),
            listings_to_withdraw=tuple(int(doc["listing_id"]) for doc in listings),
            blockers=tuple(blockers))

    async def delete(self, guild_id: int, user_id: int, *, attempts: int = 3) -> DeletionResult:
        """Anonymise the member (see the module docstring). Raises NotPermitted while something
        blocks it; running it twice changes nothing the second time."""
        preview = await self.preview(guild_id, user_id)
        if preview.blockers:
            raise NotPermitted("Your data can't be deleted yet: " + "; ".join(preview.blockers)
                               + ".")
        withdrawn = []
        for listing_id in preview.listings_to_withdraw:
            try:
                await self._marketplace.withdraw(guild_id, user_id, listing_id)
                withdrawn.append(listing_id)
            except InvalidInput:
                pass  # no longer live (withdrawn by a concurrent request, or just reserved)
        # A listing bought meanwhile opened a trade: check the blockers once more.
        again = await self.preview(guild_id, user_id)
        if again.blockers:
            raise NotPermitted("Your data can't be deleted yet: " + "; ".join(again.blockers)
                               + ".")
        number = await self._repo.next_tombstone(guild_id)
        tomb = tombstone_id(number)
        for _ in range(attempts):
            found = await self._mentions(guild_id, user_id)
            changes = _changes(found, user_id, tomb)
            record = {"guild_id": guild_id, "tombstone_id": tomb, "at": self._clock.now(),
                      "documents": len(changes), "forfeited": preview.balance}
            try:
                await self._repo.apply(changes, record)
            except ChangedMeanwhile:
                continue
            return DeletionResult(
                tombstone=tomb, forfeited=preview.balance, listings_withdrawn=withdrawn,
                rewritten=sum(1 for c in changes if c.new is not None),
                deleted=sum(1 for c in changes if c.new is None))
        raise InvalidInput("Your data kept changing while it was being deleted; try again.")

    async def _mentions(self, guild_id: int, user_id: int) -> dict[str, list[dict]]:
        token = _token(user_id)
        found: dict[str, list[dict]] = {}
        for name in await self._repo.collections():
            found[name] = [doc async for doc in self._repo.guild_documents(name, guild_id)
                           if _mentions(doc, user_id, token)]
        return found


def _token(user_id: int) -> re.Pattern[str]:
    # The id as a whole number inside a string ("daily:123:2026-01-01"), not a digit run's part.
    return re.compile(rf"(?<![0-9]){user_id}(?![0-9])")


def _mentions(value: Any, user_id: int, token: re.Pattern[str]) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value == user_id
    if isinstance(value, str):
        return token.search(value) is not None
    if isinstance(value, dict):
        return any(_mentions(v, user_id, token) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_mentions(v, user_id, token) for v in value)
    return False


def _replaced(value: Any, user_id: int, tomb: int, token: re.Pattern[str]) -> Any:
    if isinstance(value, bool | datetime):
        return value
    if isinstance(value, int):
        return tomb if value == user_id else value
    if isinstance(value, str):
        return token.sub(str(tomb), value)
    if isinstance(value, dict):
        return {k: _replaced(v, user_id, tomb, token) for k, v in value.items()}
    if isinstance(value, list):
        return [_replaced(v, user_id, tomb, token) for v in value]
    return value


def _changes(found: dict[str, list[dict]], user_id: int, tomb: int) -> list[Change]:
    token = _token(user_id)
    changes = []
    for name, docs in found.items():
        for doc in docs:
            if name in PERSONAL_COLLECTIONS or (
                    name == "cap_slots" and doc.get("kind") in PERSONAL_SLOT_KINDS):
                changes.append(Change(name, doc))
                continue
            new = _replaced(doc, user_id, tomb, token)
            if name == "accounts" and doc.get("user_id") == user_id:
                new["system"] = True  # off the leaderboards, like the treasury
            changes.append(Change(name, doc, new))
    return changes


def export_summary(data: bytes) -> dict[str, int]:
    """Documents per collection in an export (for the confirmation message)."""
    body = json.loads(data)
    return {name: len(docs) for name, docs in body["collections"].items()}
