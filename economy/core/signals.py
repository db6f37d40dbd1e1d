"""Domain signals: a feature says what just happened to a member; other features listen.

A service sends a signal after its action committed (a trade completed, a daily claim, an event
check-in); listeners (the badges' award rules) react to it. So a feature that reacts to others
(badges) needs one `send` line in each of them, never a scan over everything. Listeners run
after the sender's transaction: a listener failing is logged and never fails the action that
already happened. Signals live in one process's memory (no delivery across processes or
restarts); a listener that must not miss anything keeps its own idempotent catch-up path.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

#: A listener: (signal name, guild id, member ids) -> awaitable.
Listener = Callable[[str, int, tuple[int, ...]], Awaitable[None]]

#: The signals senders send (a listener connected to another name is refused: a typo would
#: otherwise never fire).
NAMES = frozenset({
    "trade_completed",      # members: seller, buyer
    "daily_claimed",        # members: the claimer
    "event_attended",       # members: who checked in
    "challenge_completed",  # members: who completed it
    "guide_published",      # members: the author
    "trade_rated",          # members: the member who was rated
    "event_completed",      # members: the winners (1st, 2nd, 3rd)
    "season_finished",      # members: the season's top 3
    "mentorship_completed", # members: the mentor, the mentee
    "nft_role_granted",     # members: who just got an NFT rule's role (they hold its tokens)
})


class Signals:
    """One process's signal board: `connect` listeners, `send` after an action committed."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[Listener]] = {}

    def connect(self, name: str, listener: Listener) -> None:
        """Call `listener` whenever `name` is sent."""
        if name not in NAMES:
            raise ValueError(f"unknown signal {name!r}")
        self._listeners.setdefault(name, []).append(listener)

    async def send(self, name: str, guild_id: int, *user_ids: int) -> None:
        """Tell every listener of `name` (in order); never raises (errors are logged).

        Raises: nothing expected.
        """
        for listener in self._listeners.get(name, ()):
            try:
                await listener(name, guild_id, tuple(user_ids))
            except Exception:  # a listener never fails the sender's action
                log.exception("signal %s listener failed (guild %s)", name, guild_id)


#: The board of services built without one (tests that build a service alone): nobody listens.
NO_SIGNALS = Signals()
