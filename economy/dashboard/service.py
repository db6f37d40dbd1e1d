"""The dashboard's rules: single-use login states, expiring and revocable sessions, the
overview's health numbers, and the staff actions taken on the web, each checked against the
`Actor` the web layer computed for this request and written to the audit log with it.

Secrets (session tokens, login states) are random 256-bit strings handed to the browser; only
their SHA-256 is stored. Signing cookies and CSRF tokens is the web layer's job (it holds the
session secret); this service never sees them.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from economy.core.actor import Actor
from economy.core.clock import Clock, from_ms
from economy.core.errors import InvalidInput, NotPermitted
from economy.core.ledger import LedgerService
from economy.core.settings import GuildSettings, SettingsService, parse_value
from economy.currency.review import STORED_FLAGS
from economy.dashboard.repo import DashboardRepo
from economy.marketplace.listings import ListingService
from economy.marketplace.models import Listing, Notice, PublishResult
from economy.registry import section_of, switchable
from economy.trades.disputes import DisputeService
from economy.trades.models import TradeResult

#: How long a login lasts; after it the member logs in with Discord again.
SESSION_TTL = timedelta(hours=12)
#: How long a login may take between leaving for Discord and coming back.
STATE_TTL = timedelta(minutes=10)
#: Guild ids remembered from Discord's guild list at login (the guild picker's candidates).
MAX_GUILDS = 200
LOGIN_EXPIRED = "That login link expired or was already used. Log in again."
OPEN_TRADES = ["offered", "reserved", "delivered", "disputed"]


def digest(secret: str) -> str:
    """What is stored for a browser secret (never the secret itself)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    """A logged-in browser."""

    user_id: int
    name: str
    guild_ids: tuple[int, ...]
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Health:
    """The overview's live numbers for one guild."""

    members_with_balance: int
    member_gems: int  # spendable GEMS held by members
    escrow_gems: int  # GEMS members hold in escrow (open trades)
    treasury: int
    open_trades: int
    open_disputes: int
    listings_pending: int
    features_on: tuple[str, ...]
    features_off: tuple[str, ...]

    @property
    def supply(self) -> int:
        """Every GEMS that exists in the guild: members' spendable and held, and the treasury."""
        return self.member_gems + self.escrow_gems + self.treasury


@dataclass(frozen=True)
class Flag:
    """A flag raised to moderators about a member (what the moderator queue is told)."""

    user_id: int
    text: str
    at: datetime


@dataclass(frozen=True)
class Change:
    """One setting changed on the dashboard."""

    key: str
    old: Any
    new: Any


class DashboardService:
    """Logins, sessions, health numbers and audited staff actions of the web dashboard."""

    def __init__(self, repo: DashboardRepo, ledger: LedgerService, settings: SettingsService,
                 clock: Clock, *, listings: ListingService, disputes: DisputeService) -> None:
        self._repo = repo
        self._listings = listings
        self._disputes = disputes
        self._ledger = ledger
        self._settings = settings
        self._clock = clock

    # --- logging in -------------------------------------------------------------------------
    async def new_login_state(self) -> str:
        """A fresh OAuth2 `state` (single use, 10 minutes).

        Raises: nothing expected.
        """
        state = secrets.token_urlsafe(32)
        now = self._clock.now()
        await self._repo.add_state(digest(state), now, now + STATE_TTL)
        return state

    async def take_login_state(self, state: str, browser_state: str | None) -> None:
        """Use up a login state: it must be the one this browser was sent off with, unused and
        younger than 10 minutes.

        Raises:
            NotPermitted: unknown, reused, expired, or another browser's state.
        """
        if not state or not browser_state or not secrets.compare_digest(state, browser_state):
            raise NotPermitted(LOGIN_EXPIRED)
        if not await self._repo.take_state(digest(state), self._clock.now()):
            raise NotPermitted(LOGIN_EXPIRED)

    async def open_session(self, user_id: int, name: str, guild_ids: list[int]) -> str:
        """Store a session for a member Discord vouched for; returns its secret token.

        Raises:
            InvalidInput: not a member id.
        """
        if user_id <= 0:
            raise InvalidInput("Discord did not name a member.")
        token = secrets.token_urlsafe(32)
        now = self._clock.now()
        await self._repo.add_session({
            "_id": digest(token), "user_id": user_id, "name": name[:100],
            "guild_ids": [int(g) for g in guild_ids[:MAX_GUILDS]],
            "created_at": now, "expires_at": now + SESSION_TTL})
        return token

    async def session(self, token: str) -> Session | None:
        """The live session of a token (None: unknown, expired or revoked).

        Raises: nothing expected.
        """
        if not token:
            return None
        doc = await self._repo.session(digest(token), self._clock.now())
        if doc is None:
            return None
        return Session(user_id=int(doc["user_id"]), name=str(doc.get("name") or ""),
                       guild_ids=tuple(int(g) for g in doc.get("guild_ids") or ()),
                       created_at=doc["created_at"], expires_at=doc["expires_at"])

    async def close_session(self, token: str) -> None:
        """Log one browser out.

        Raises: nothing expected.
        """
        await self._repo.delete_session(digest(token))

    async def close_all_sessions(self, actor: Actor) -> int:
        """Log the actor out of the dashboard everywhere; how many sessions ended.

        Raises: nothing expected.
        """
        return await self._repo.delete_sessions_of(actor.user_id)

    async def prune(self) -> int:
        """Delete expired sessions and login states (an hourly job); how many went.

        Raises: nothing expected.
        """
        return await self._repo.delete_expired(self._clock.now())

    # --- reading ----------------------------------------------------------------------------
    async def health(self, guild_id: int, actor: Actor) -> Health:
        """The guild's live numbers for its admins.

        Raises:
            NotPermitted: the actor is not an admin of the guild.
        """
        actor.require_admin(guild_id)
        settings = await self._settings.get(guild_id)
        members, gems, held = await self._repo.member_totals(guild_id)
        on = tuple(label for name, label in switchable().items()
                   if name not in settings.disabled_features)
        off = tuple(label for name, label in switchable().items()
                    if name in settings.disabled_features)
        return Health(
            members_with_balance=members, member_gems=gems, escrow_gems=held,
            treasury=await self._ledger.treasury_balance(guild_id),
            open_trades=await self._repo.count_trades(guild_id, OPEN_TRADES),
            open_disputes=await self._repo.count_trades(guild_id, ["disputed"]),
            listings_pending=await self._repo.count_listings(guild_id, "pending"),
            features_on=on, features_off=off)

    async def audit_trail(self, guild_id: int, actor: Actor, *, limit: int = 20) -> list[dict]:
        """The latest actions taken on the dashboard in this guild (admins).

        Raises:
            NotPermitted: the actor is not an admin of the guild.
        """
        actor.require_admin(guild_id)
        return await self._repo.recent_log(guild_id, limit=limit)

    # --- changing ---------------------------------------------------------------------------
    async def change_settings(self, guild_id: int, actor: Actor,
                              changes: dict[str, str]) -> list[Change]:
        """Change settings of one section, as `/settings edit` does: every value is checked
        before anything is stored, unchanged values are not written, each change goes through
        the settings service (its validation and history) and is audited with the actor.

        Raises:
            NotPermitted: the actor is not an admin of the guild.
            InvalidInput: a bad value, settings of several sections, or a switched-off feature.
            NotFound: an unknown setting.
        """
        actor.require_admin(guild_id)
        if not changes:
            return []
        settings: GuildSettings = await self._settings.get(guild_id)
        sections = set()
        for key in changes:
            try:
                sections.add(section_of(key))
            except KeyError:
                parse_value(key, "")  # raises NotFound with /settings' wording
        if len(sections) != 1:
            raise InvalidInput("Change one section's settings at a time.")
        section = next(iter(sections))
        if section != "core" and section in settings.disabled_features:
            raise InvalidInput("That feature is switched off in this server: switch it on "
                               "first (Core section, disabled features).")
        parsed = {key: parse_value(key, raw) for key, raw in changes.items()}
        done: list[Change] = []
        for key, raw in changes.items():
            if parsed[key] == getattr(settings, key):
                continue
            old, new = await self._settings.set(guild_id, actor, key, raw)
            if old != new:
                done.append(Change(key, old, new))
                await self._log(guild_id, actor, "dashboard.settings", f"setting:{key}")
        return done

    async def pending_listings(self, guild_id: int, actor: Actor) -> list[Listing]:
        """Listings waiting for a moderator, oldest first.

        Raises:
            NotPermitted: the actor is not a moderator (or admin) of the guild.
        """
        actor.require_moderator(guild_id)
        return await self._listings.pending(guild_id, actor, limit=50)

    async def recent_flags(self, guild_id: int, actor: Actor, *, limit: int = 20) -> list[Flag]:
        """The latest flags raised about members (the ones `/gems-admin member` shows).

        Raises:
            NotPermitted: the actor is not a moderator (or admin) of the guild.
        """
        actor.require_moderator(guild_id)
        docs = await self._repo.recent_flags(guild_id, list(STORED_FLAGS), limit=limit)
        return [Flag(int(d["user_id"]), STORED_FLAGS[d["bucket"]], from_ms(int(d["last_ms"])))
                for d in docs if d.get("last_ms") is not None]

    async def approve_listing(self, guild_id: int, actor: Actor, listing_id: int) -> PublishResult:
        """Approve a pending listing, as the Approve button does (the listing records the
        moderator), and audit it.

        Raises:
            NotPermitted: not a moderator, or the moderator's own listing.
            InvalidInput: no such listing, or it is no longer pending.
        """
        actor.require_moderator(guild_id)
        result = await self._listings.approve(guild_id, actor, listing_id)
        await self._log(guild_id, actor, "dashboard.listing.approve", f"listing:{listing_id}")
        return result

    async def reject_listing(self, guild_id: int, actor: Actor, listing_id: int,
                             reason: str) -> Notice:
        """Reject a pending listing with the reason the seller is told, and audit it.

        Raises:
            NotPermitted: not a moderator.
            InvalidInput: a reason of the wrong length, no such listing, or not pending.
        """
        actor.require_moderator(guild_id)
        notice = await self._listings.reject(guild_id, actor, listing_id, reason)
        await self._log(guild_id, actor, "dashboard.listing.reject", f"listing:{listing_id}",
                        notice.detail)
        return notice

    async def resolve_dispute(self, guild_id: int, actor: Actor, trade_id: int, outcome: str,
                              *, percent: int | None, note: str | None) -> TradeResult:
        """Settle a dispute as `/trades-admin dispute resolve` does (the same service call and
        rules: a moderator of the guild, not a party; split takes the seller's percent), and
        audit it.

        Raises:
            NotPermitted: not a moderator of the guild, or a party to the trade.
            InvalidInput: an unknown outcome, a percent without a split, or a split without one.
            NotFound: no such trade in this guild.
            TradeUnavailable: the trade is not disputed (any more).
            InsufficientFunds, InvalidAmount, DeletedAccount, OutcomeUnknown: as the settlement.
        """
        actor.require_moderator(guild_id)
        if outcome not in ("refund", "release", "split"):
            raise InvalidInput("Refund the buyer, release to the seller, or split?")
        if (outcome == "split") != (percent is not None):
            raise InvalidInput("A split needs the seller's share in percent (0-100); refund and "
                               "release take none.")
        if percent is not None and not 0 <= percent <= 100:
            raise InvalidInput("The seller's share is a percent from 0 to 100.")
        result = await self._disputes.resolve(guild_id, trade_id, actor, outcome,  # type: ignore[arg-type]
                                              percent=percent, note=note)
        await self._log(guild_id, actor, "dashboard.dispute.resolve", f"trade:{trade_id}",
                        f"{outcome}{f' {percent}%' if percent is not None else ''}"
                        f"{f': {note}' if note else ''}")
        return result

    async def record(self, guild_id: int, actor: Actor, action: str, target: str,
                     note: str | None = None) -> None:
        """Write a staff action taken on the dashboard to the audit log.

        Raises: nothing expected.
        """
        await self._log(guild_id, actor, action, target, note)

    async def _log(self, guild_id: int, actor: Actor, action: str, target: str,
                   note: str | None = None) -> None:
        details: dict[str, Any] = {"note": (note or "web dashboard")[:300]}
        await self._repo.log({"guild_id": guild_id, "at": self._clock.now(),
                              "actor_id": actor.user_id, "action": action, "target": target,
                              "details": details})
