"""Linking wallets to members with a signed EIP-4361 message, through one-time link tickets.

`/wallet link` creates a ticket (random token, 10 minutes, single use, with its own nonce). The
bot's page asks the challenge for the token, the wallet signs the message built from it, and the
signed text comes back to `complete`, which checks every field (economy.nft.siwe) and then, in one
transaction, consumes the ticket and stores the wallet.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from eth_utils import is_address, to_checksum_address

from economy.core.clock import Clock, from_ms, to_ms
from economy.core.errors import AlreadyRecorded, InvalidInput, NotFound
from economy.nft.siwe import Expected, SiweError, verify
from economy.nft.wallet_repo import WalletRepo, WalletsFull
from economy.repos.slot_repo import SlotsBusy, SlotsFull

LINK_LIFETIME = timedelta(minutes=10)
MAX_WALLETS = 10
MAX_OPEN_LINKS = 3  # unexpired, unused tickets per member (no spamming the collection)
_ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True)
class LinkTicket:
    """What `/wallet link` hands the member."""

    token: str
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class Linked:
    """A completed link."""

    guild_id: int
    user_id: int
    address: str


def _ascii_name(text: str, limit: int = 40) -> str:
    # EIP-4361 statements are printable ASCII on one line; keep names recognisable but safe.
    cleaned = re.sub(r"[^A-Za-z0-9 ._-]", "", text).strip()[:limit]
    return cleaned or "member"


def link_page_url(public_url: str, token: str) -> str:
    """The page a member opens to link a wallet."""
    return f"{public_url.rstrip('/')}/wallet/link/{token}"


def checksum(address: str) -> str:
    """An address in EIP-55 form; InvalidInput when it is not an address."""
    text = address.strip()
    if not is_address(text):
        raise InvalidInput("That is not a valid wallet address (0x followed by 40 hex digits).")
    return to_checksum_address(text)


class WalletService:
    """Link tickets, the signed-message check, and the member's wallet list."""

    def __init__(self, repo: WalletRepo, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock

    async def start_link(self, guild_id: int, user_id: int, *, member_name: str,
                         guild_name: str, public_url: str) -> LinkTicket:
        """Create a one-time link ticket for the member.

        Raises: InvalidInput.
        """
        if await self._repo.count_of_member(guild_id, user_id) >= MAX_WALLETS:
            raise InvalidInput(f"You can link at most {MAX_WALLETS} wallets. Unlink one first.")
        now = self._clock.now()
        token = secrets.token_urlsafe(24)
        statement = (f"Link this wallet to Discord member {_ascii_name(member_name)} "
                     f"(id {user_id}) in the server {_ascii_name(guild_name)} (id {guild_id}).")
        try:
            await self._repo.insert_link({
                "_id": token, "guild_id": guild_id, "user_id": user_id,
                "nonce": "".join(secrets.choice(_ALNUM) for _ in range(16)),
                "statement": statement, "created_ms": to_ms(now),
                "expires_ms": to_ms(now + LINK_LIFETIME), "status": "open",
            }, cap=MAX_OPEN_LINKS, now_ms=to_ms(now))
        except (SlotsFull, SlotsBusy):
            raise self._too_many_links() from None
        return LinkTicket(token, link_page_url(public_url, token), now + LINK_LIFETIME)

    @staticmethod
    def _too_many_links() -> InvalidInput:
        return InvalidInput("You already have several open wallet links. Use one of them, or "
                            "wait until they expire (10 minutes).")

    async def _open_link(self, token: str) -> dict:
        link = await self._repo.link(token) if isinstance(token, str) and len(token) < 100 else None
        if link is None:
            raise NotFound("This link is not valid. Run /wallet link in Discord for a new one.")
        if link["status"] != "open":
            raise InvalidInput("This link was already used. Run /wallet link for a new one.")
        if to_ms(self._clock.now()) >= link["expires_ms"]:
            raise InvalidInput("This link has expired. Run /wallet link for a new one.")
        return link

    async def challenge(self, token: str, *, public_url: str, chain_id: int) -> dict:
        """The EIP-4361 fields the page puts in the message for this ticket.

        Raises: InvalidInput, NotFound.
        """
        link = await self._open_link(token)
        return {
            "domain": urlsplit(public_url).netloc,
            "uri": link_page_url(public_url, token),
            "statement": link["statement"],
            "version": "1",
            "chainId": chain_id,
            "nonce": link["nonce"],
            "issuedAt": _rfc3339(self._clock.now()),
            "expirationTime": _rfc3339(from_ms(link["expires_ms"])),
            "requestId": token,
        }

    async def complete(self, token: str, message: str, signature: str, *, public_url: str,
                       chain_id: int) -> Linked:
        """Verify the signed message for the ticket and link the wallet (once).

        Raises: InvalidInput, NotFound, SiweError.
        """
        link = await self._open_link(token)
        expected = Expected(
            domain=urlsplit(public_url).netloc, uri=link_page_url(public_url, token),
            chain_id=chain_id, nonce=link["nonce"], request_id=token,
            statement=link["statement"], not_after=from_ms(link["expires_ms"]),
        )
        siwe = verify(message, signature, expected, self._clock.now())
        guild_id, user_id = link["guild_id"], link["user_id"]
        existing = await self._repo.by_address(guild_id, siwe.address)
        if existing is not None:
            if existing["user_id"] == user_id:
                raise InvalidInput("This wallet is already linked to you.")
            raise InvalidInput("This wallet is already linked to another member of this server.")
        wallet = {"guild_id": guild_id, "user_id": user_id, "address": siwe.address,
                  "linked_ms": to_ms(self._clock.now())}
        try:
            consumed = await self._repo.consume_link_and_add(token, wallet, cap=MAX_WALLETS)
        except AlreadyRecorded:
            raise InvalidInput("This wallet is already linked to a member of this server.") from None
        except WalletsFull:
            raise InvalidInput(f"You can link at most {MAX_WALLETS} wallets. Unlink one "
                               "first.") from None
        if not consumed:
            raise InvalidInput("This link was already used. Run /wallet link for a new one.")
        return Linked(guild_id, user_id, siwe.address)

    async def wallets(self, guild_id: int, user_id: int) -> list[str]:
        """A member's linked addresses.

        Raises: nothing expected.
        """
        return [w["address"] for w in await self._repo.of_member(guild_id, user_id)]

    async def unlink(self, guild_id: int, user_id: int, address: str) -> str:
        """Unlink one of the member's wallets; returns the checksummed address.

        Raises: InvalidInput, NotFound.
        """
        address = checksum(address)
        if not await self._repo.remove(guild_id, user_id, address):
            raise NotFound("You have no linked wallet with that address.")
        return address

    async def owner_of(self, guild_id: int, address: str) -> int | None:
        """The member a wallet is linked to in this guild.

        Raises: InvalidInput.
        """
        doc = await self._repo.by_address(guild_id, checksum(address))
        return doc["user_id"] if doc else None


def _rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = ["LinkTicket", "Linked", "SiweError", "WalletService", "checksum"]
