"""Economy administration: resets, setting a balance, and grants to everyone holding a role.

Every change goes through the ledger: a reset burns each balance (kind `reset`), a set-balance
mints or burns the difference, a role grant is one `grant` per member. The audit stays exact
(supply == mints - burns).

Guards: a reset or a set-balance computes its change from the balance it read and the write is
conditioned on that balance (LedgerService.set_balance), so a give that lands in between is never
overwritten. A reset then reads again and burns what is there now (its intent is "zero"); a
set-balance is refused (the admin decides again, seeing the new balance). Idempotency: one key per
member per operation (`reset:<op>:<member>`, `setbal:<op>`, `grant-role:<op>:<member>`), so a
retried operation changes nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from economy.core.actor import Actor
from economy.core.clock import Clock
from economy.core.errors import InvalidAmount, InvalidInput
from economy.core.ledger import BalanceChanged, LedgerService, check_amount
from economy.core.models import Movement, is_system
from economy.core.settings import MAX_AMOUNT, SettingsService
from economy.repos.ledger_repo import LedgerRepo

#: Reads-and-burns of one member a reset tries before it gives up on them (a member whose
#: balance changes this often during a reset is reported, not silently skipped).
RESET_ATTEMPTS = 8
#: Members reset or granted at once (the ledger writer batches the grants of one chunk).
CHUNK = 64
#: Most members one role grant may pay (Discord roles can be huge; the admin is told).
MAX_ROLE_GRANT = 25_000


@dataclass(frozen=True)
class ResetResult:
    """What a reset burned."""

    members: int
    burned: int
    #: Members whose balance kept moving during the reset (tell the admin to run it again).
    missed: tuple[int, ...] = ()


@dataclass(frozen=True)
class BalanceSet:
    """A member's balance before and after a set-balance (equal: nothing to change)."""

    user_id: int
    before: int
    after: int
    replayed: bool = False


@dataclass(frozen=True)
class RoleGrant:
    """What a grant to a role's holders did."""

    granted: int  # members paid now
    repeated: int  # members paid by an earlier attempt of the same grant
    amount: int

    @property
    def total(self) -> int:
        """GEMS created by this attempt."""
        return self.granted * self.amount


def _same_name(typed: str | None, server_name: str) -> bool:
    return (typed or "").strip().casefold() == server_name.strip().casefold()


class EconomyAdminService:
    """Admin tools over the guild's balances (always through the ledger)."""

    def __init__(self, ledger: LedgerService, repo: LedgerRepo, settings: SettingsService,
                 clock: Clock) -> None:
        self._ledger = ledger
        self._repo = repo
        self._settings = settings
        self._clock = clock

    async def reset_member(self, guild_id: int, actor: Actor, user_id: int, *, typed_name: str,
                           server_name: str, key: str) -> ResetResult:
        """Burn one member's spendable balance (held escrow stays with its trade). The admin
        typed the server's name to confirm.

        Raises: InvalidInput (wrong name, not a member), NotPermitted, OutcomeUnknown.
        """
        actor.require_admin(guild_id)
        self._confirmed(typed_name, server_name)
        if is_system(user_id):
            raise InvalidInput("Only a member's balance can be reset.")
        burned, missed = await self._zero(guild_id, actor, user_id, key)
        return ResetResult(members=1 if burned else 0, burned=burned,
                           missed=(user_id,) if missed else ())

    async def reset_all(self, guild_id: int, actor: Actor, *, typed_name: str, server_name: str,
                        key: str) -> ResetResult:
        """Burn every member's spendable balance (the treasury and held escrow stay). The admin
        typed the server's name to confirm. A repeat under the same key burns nothing twice.

        Raises: InvalidInput (wrong name), NotPermitted, OutcomeUnknown.
        """
        actor.require_admin(guild_id)
        self._confirmed(typed_name, server_name)
        members = burned = 0
        missed: list[int] = []
        async for page in self._repo.guild_account_pages(guild_id):
            users = [d["user_id"] for d in page
                     if not is_system(d["user_id"]) and d.get("balance", 0) > 0]
            for start in range(0, len(users), CHUNK):
                chunk = users[start:start + CHUNK]
                results = await asyncio.gather(*(self._zero(guild_id, actor, u, key)
                                                  for u in chunk))
                for user_id, (amount, gave_up) in zip(chunk, results, strict=True):
                    members += amount > 0
                    burned += amount
                    if gave_up:
                        missed.append(user_id)
        return ResetResult(members=members, burned=burned, missed=tuple(missed))

    async def set_balance(self, guild_id: int, actor: Actor, user_id: int, amount: int, *,
                          key: str, reason: str | None = None) -> BalanceSet:
        """Make a member's balance `amount` (0..MAX_AMOUNT): the difference is minted or burned,
        conditioned on the balance read for it. Once per `key`.

        Raises: BalanceChanged (it moved meanwhile: nothing changed), InvalidAmount,
            InvalidInput, NotPermitted, OutcomeUnknown.
        """
        actor.require_admin(guild_id)
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= MAX_AMOUNT:
            raise InvalidAmount(f"The balance must be a whole number from 0 to {MAX_AMOUNT:,}.")
        if is_system(user_id):
            raise InvalidInput("Only a member's balance can be set.")
        before = (await self._ledger.account(guild_id, user_id)).balance
        note = f"balance set to {amount:,}" + (f": {reason}" if reason else "")
        movement = await self._ledger.set_balance(guild_id, actor, user_id,
                                                  expected=before, target=amount, key=key,
                                                  reason=note)
        if movement is None:
            return BalanceSet(user_id, before, before)
        entry = movement.entries[0]
        after = entry.balance_after if entry.balance_after is not None else before + entry.delta
        return BalanceSet(user_id, after - entry.delta, after, replayed=movement.replayed)

    async def grant_role(self, guild_id: int, actor: Actor, user_ids: Iterable[int], amount: int,
                         *, key: str, reason: str) -> RoleGrant:
        """Create `amount` GEMS for each of `user_ids` (a role's holders, as the adapter saw
        them), one ledger grant per member under `grant-role:<key>:<member>`: the ledger writer
        batches them, and a retry of the same grant pays nobody twice.

        Raises: InvalidAmount, InvalidInput, NotPermitted, OutcomeUnknown.
        """
        actor.require_admin(guild_id)
        amount = check_amount(amount)
        members = sorted({u for u in user_ids if not is_system(u)})
        if not members:
            raise InvalidInput("Nobody (apart from bots) holds that role.")
        if len(members) > MAX_ROLE_GRANT:
            raise InvalidInput(f"That role has {len(members):,} members; a grant can pay at most "
                               f"{MAX_ROLE_GRANT:,} at once.")
        granted = repeated = 0
        for start in range(0, len(members), CHUNK * 4):
            chunk = members[start:start + CHUNK * 4]
            movements: list[Movement] = await asyncio.gather(*(
                self._ledger.grant(guild_id, actor, user_id, amount, reason=reason,
                                   key=f"grant-role:{key}:{user_id}")
                for user_id in chunk))
            for movement in movements:
                if movement.replayed:
                    repeated += 1
                else:
                    granted += 1
        return RoleGrant(granted=granted, repeated=repeated, amount=amount)

    # --- internals ---------------------------------------------------------------------------
    @staticmethod
    def _confirmed(typed_name: str | None, server_name: str) -> None:
        if not _same_name(typed_name, server_name):
            raise InvalidInput("That isn't this server's name, so nothing was reset. Type the "
                               "name exactly as it appears (letter case doesn't matter).")

    async def _zero(self, guild_id: int, actor: Actor, user_id: int, key: str) -> tuple[int, bool]:
        """Burn a member's balance, reading again when it moved; (burned, gave up)."""
        op_key = f"reset:{key}:{user_id}"
        for _ in range(RESET_ATTEMPTS):
            balance = (await self._ledger.account(guild_id, user_id)).balance
            try:
                movement = await self._ledger.set_balance(
                    guild_id, actor, user_id, expected=balance, target=0, key=op_key,
                    reason="economy reset", burn_kind="reset")
            except BalanceChanged:
                continue  # a give or a purchase landed in between: burn what is there now
            if movement is None or movement.replayed:
                return 0, False
            return -movement.entries[0].delta, False
        return 0, True
