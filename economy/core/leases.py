"""Leader election for several bot processes on one database: a lease with a fencing token.

One process holds the `scheduler` lease and runs the cross-guild sweeps; the others only renew
their hope. The holder renews well before expiry; when it dies (even by SIGKILL) the lease runs
out and the first process to see it expired takes it over, incrementing the fencing token. A
holder that was paused past its expiry finds the token changed at its next renewal and steps down;
`confirm()` before each job makes a stale holder skip the job instead of running it alongside the
new leader (and every job still acts through guarded updates, so even an overlap applies each
transition once).

Time comes from the injected clock (tests move it); expiry is stored as epoch-ms.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import timedelta

from economy.core.clock import Clock, span_ms, to_ms
from economy.repos.lease_repo import LeaseRepo

log = logging.getLogger(__name__)

SCHEDULER = "scheduler"


def process_owner_id() -> str:
    """A name for this process that no other process (here or on another host) shares."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass
class LeaseState:
    """What this process knows about its own hold on the lease."""

    token: int | None = None
    expires_ms: int = 0


class Lease:
    """This process's view of one named lease (default: the scheduler leader lease)."""

    def __init__(self, repo: LeaseRepo, clock: Clock, *, owner: str, ttl_seconds: float,
                 name: str = SCHEDULER) -> None:
        if ttl_seconds <= 0:
            raise ValueError("a lease needs a positive time to live")
        self._repo = repo
        self._clock = clock
        self.owner = owner
        self.name = name
        self.ttl_ms = span_ms(timedelta(seconds=ttl_seconds))
        self._state = LeaseState()
        self.terms = 0  # how many times this process became leader

    @property
    def token(self) -> int | None:
        """The fencing token while this process believes it leads, else None."""
        return self._state.token

    def held(self) -> bool:
        """True while this process holds the lease and its own expiry has not passed."""
        return self._state.token is not None and to_ms(self._clock.now()) < self._state.expires_ms

    async def tick(self) -> bool:
        """Renew the lease if held, else try to acquire it when free or expired.

        Call it every third of the time to live. Returns True while this process leads.

        Raises: nothing expected.
        """
        now = to_ms(self._clock.now())
        expires = now + self.ttl_ms
        state = self._state
        if state.token is not None:
            if await self._repo.renew(self.name, self.owner, state.token, now, expires):
                state.expires_ms = expires
                return True
            log.warning("lost the %s lease (token %s): another process took over",
                        self.name, state.token)
            self._state = LeaseState()
            return False
        seen = await self._repo.get(self.name)
        if seen is None:
            if await self._repo.create(self.name, self.owner, now, expires):
                await self._repo.record_term(self.name, 1, {"owner": self.owner,
                                                            "acquired_at": now, "previous": None})
                return self._won(1, expires)
            return False
        if seen.get("owner") == self.owner and isinstance(seen.get("token"), int):
            # Our own lease from before a lost renewal answer: the token proves it is still ours.
            if await self._repo.renew(self.name, self.owner, seen["token"], now, expires):
                return self._won(seen["token"], expires)
            return False
        if int(seen.get("expires_at") or 0) > now:
            return False
        token = await self._repo.take_over(seen, self.owner, now, expires)
        if token is None:
            return False
        log.info("took over the %s lease from %s (token %d)", self.name, seen.get("owner"), token)
        self._won(token, expires)
        await self._repo.record_term(self.name, token, {
            "owner": self.owner, "acquired_at": now,
            "previous": {"owner": seen.get("owner"), "expires_at": seen["expires_at"],
                         "released": bool(seen.get("released"))}})
        return True

    def _won(self, token: int, expires: int) -> bool:
        self._state = LeaseState(token=token, expires_ms=expires)
        self.terms += 1
        return True

    async def confirm(self) -> int | None:
        """Renew now and return the fencing token if this process still leads, else None.

        Jobs call this right before they run, so a stale leader skips instead of overlapping.
        A lease renewed less than a third of its time to live ago is still this process's
        without asking (no process takes a lease over before it expires): one pass over every
        job renews once, not once per job. A holder paused since then sees the time passed.

        Raises: nothing expected.
        """
        state = self._state
        if state.token is None:
            return None
        if state.expires_ms - to_ms(self._clock.now()) > self.ttl_ms - self.ttl_ms // 3:
            return state.token
        return state.token if await self.tick() else None

    async def release(self) -> None:
        """Give the lease up on clean shutdown so another process leads without waiting.

        Raises: nothing expected.
        """
        token, self._state = self._state.token, LeaseState()
        if token is not None:
            await self._repo.release(self.name, self.owner, token, to_ms(self._clock.now()))
