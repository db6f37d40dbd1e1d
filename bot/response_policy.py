"""Every interaction acknowledged within about a second, whatever the load.

Discord drops an interaction that gets no first response within 3 s (10062 Unknown interaction);
the member sees "The application did not respond" even when the GEMS moved. The policy lives
here, once, so cogs keep calling ``interaction.response.send_message`` / ``edit_message`` /
``defer`` as if they were always fast:

- ``install_response_policy(bot)`` gives every command, component and modal interaction a
  :class:`PolicyResponse` before any handler runs, through the INTERACTION_CREATE hook of
  bot/discord_internals.py (autocomplete is left alone: it cannot be deferred).
- The process is *busy* when it is falling behind (bot/load_gauge.py): its event loop runs
  ``lag_limit`` late, interactions arrive in a burst (more than ``burst_arrivals`` within
  0.1 s), or more than ``busy_ceiling`` wait for their answer. A new interaction is then
  deferred at once. Otherwise (steady traffic, however many it keeps in flight) its handler
  starts at once and a watchdog defers it only when it has not responded after
  ``watchdog_seconds``.
- A defer made by the policy is invisible to the handler: ``is_done()`` stays False until the
  handler answers, and its answer is converted — ``send_message`` edits the deferred original
  (or follows up after a deferred update), ``edit_message`` edits the component's message.
- One lock per interaction makes the watchdog's defer and the handler's response mutually
  exclusive, so exactly one initial callback is ever sent (never 40060).
- With an acknowledger (bot/acknowledger.py, the default once ``policy.start()`` ran; GemsBot
  starts it at login) the defers, busy and watchdog alike, leave from a thread of their own, so
  a busy event loop cannot hold them up; an atomic claim per interaction decides whether the
  thread's defer or the handler's own response is the initial one, and a busy handler starts
  once its own defer is out.
- When even that fails because the token is dead (10062, or an expired webhook token), the answer
  is sent to the member by DM (honouring ``/gems dms off``), so nobody believes a movement failed
  when it happened.

Defers are ephemeral or public to match the final answer: learned per command/button from the
answers already sent (the first answer of a kind teaches it), overridable with
``extras={"ephemeral": True|False}`` on an app command. Buttons and modals opened from a message
use a deferred update, which suits both an edit of that message and a new (followup) message.
Only routes known to answer with a message are deferred before their handler runs (a route never
seen might open a modal, which must be the first response: it starts at once and only the
watchdog may defer it); routes known to open a modal are never deferred.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import discord
from discord.interactions import Interaction
from discord.utils import MISSING

from bot.acknowledger import Acknowledger, AckOutcome, Claim, defer_body, outcome_of
from bot.discord_internals import (
    collect_tasks,
    install_interaction_hook,
    mark_deferred,
    set_response,
)
from bot.dm import send_dm
from bot.load_gauge import LoadGauge

log = logging.getLogger(__name__)

#: Before the load gauge runs (no event loop yet at login): more interactions waiting for an
#: answer than this -> defer new ones at once.
BUSY_THRESHOLD = 8
#: A burst: more arrivals than this within the gauge's window (0.1 s), i.e. faster than
#: 240/s, above what one process answers; a steady 100/s stream brings 10 (Poisson: more than
#: 24 about once in 10^5 windows).
BURST_ARRIVALS = 24
#: More interactions waiting for their answer than this -> busy, whatever the rate.
BUSY_CEILING = 64
#: The event loop this late (seconds) -> busy: handlers started now would start late too.
LAG_LIMIT = 0.2
#: Defer an interaction whose handler has not responded after this many seconds.
WATCHDOG_SECONDS = 0.8
#: Longest a deferred handler waits for the rest of its burst's defers to go out.
HOLD_AT_MOST = 2.0
#: With the acknowledger: most busy handlers running at once while defers are still in flight.
HANDLERS_WHILE_ACKING = 16
#: Stop counting an interaction as load after this long (one no handler answers, e.g. a stale
#: button, must not keep the process "busy").
FORGET_AFTER = 60.0

_EXPIRED_CODES = {10062, 10015, 50027}
_NEUTRAL_DONE = "✅ Done."


@dataclass
class PolicyStats:
    """What the policy did, for the bench and for tests."""

    received: int = 0
    deferred_busy: int = 0
    #: Why busy: a burst arriving (`burst_arrivals`), too many waiting (`busy_ceiling`, or
    #: `busy_threshold` before the gauge runs), the loop running late (`lag_limit`).
    busy_burst: int = 0
    busy_waiting: int = 0
    busy_lag: int = 0
    deferred_watchdog: int = 0
    converted: int = 0
    dm_fallbacks: int = 0
    lost: int = 0
    late_defers: int = 0
    #: Handler tasks a burst defer waited for (captured from discord.py's dispatch).
    handlers_awaited: int = 0
    #: Defers the acknowledger thread could not send (the handler then answered itself).
    ack_failures: int = 0


@dataclass
class ResponsePolicy:
    """The per-process state: thresholds, answers still pending, learned hints."""

    bot: Any
    busy_threshold: int = BUSY_THRESHOLD
    burst_arrivals: int = BURST_ARRIVALS
    busy_ceiling: int = BUSY_CEILING
    lag_limit: float = LAG_LIMIT
    watchdog_seconds: float = WATCHDOG_SECONDS
    stats: PolicyStats = field(default_factory=PolicyStats)
    #: interaction id -> monotonic arrival time, until its handler answered.
    pending: dict[int, float] = field(default_factory=dict)
    #: route key -> "ephemeral" | "public" | "update" | "modal", learned from answers sent.
    hints: dict[str, str] = field(default_factory=dict)
    #: Policy defers not sent yet; handlers of a burst start once none are left.
    defers_waiting: int = 0
    defers_done: asyncio.Event = field(default_factory=asyncio.Event)
    #: Sends the defers outside the event loop (bot/acknowledger.py); None: inside it.
    acknowledger: Acknowledger | None = None
    #: Busy defers the acknowledger has not finished, and busy handlers running meanwhile.
    acks_pending: int = 0
    handlers_running: int = 0
    handler_slots: asyncio.Condition = field(default_factory=asyncio.Condition)
    #: Loop lag and recent arrivals (started with the policy, in the bot's loop).
    gauge: LoadGauge = field(default_factory=LoadGauge)
    #: Arrivals within the gauge's window, as of the latest arrival.
    recent_arrivals: int = 0

    def may_start_handler(self) -> bool:
        """A busy handler may start: no defers in flight, or fewer than the cap running."""
        return self.acks_pending == 0 or self.handlers_running < HANDLERS_WHILE_ACKING

    def start(self) -> None:
        """Start the load gauge and the acknowledger thread, if any (at login, in the loop)."""
        self.gauge.start()
        if self.acknowledger is not None:
            self.acknowledger.start()

    def stop(self) -> None:
        """Stop the acknowledger thread (at close); defers go out in the loop again."""
        if self.acknowledger is not None:
            self.acknowledger.stop()

    def stop_gauge(self) -> None:
        """Cancel the load gauge's probe (call from the bot's loop, at close)."""
        self.gauge.stop()

    @property
    def in_flight(self) -> int:
        """Interactions received whose handler has not answered yet."""
        return len(self.pending)

    def busy(self) -> bool:
        """True when a new interaction should be deferred without waiting: the process is
        falling behind (its loop runs late, or a burst is arriving), not merely serving steady
        traffic that keeps several interactions in flight."""
        return self.busy_reason() is not None

    def busy_reason(self) -> str | None:
        """"burst" (arriving faster than one process answers), "waiting" (too many waiting
        for their answer), "lag" (the loop runs `lag_limit` late), or None (not busy)."""
        count = len(self.pending)
        if not self.gauge.running:
            return "waiting" if count > self.busy_threshold else None
        if self.recent_arrivals > self.burst_arrivals:
            return "burst"
        if count > self.busy_ceiling:
            return "waiting"
        if self.gauge.lag() > self.lag_limit:
            return "lag"
        return None

    def arrived(self, interaction: Interaction, dispatch: Callable[[], None]) -> None:
        """Track a new interaction, arm its defer and hand it to its handler.

        Busy: the defer goes out first and the handler starts once it is sent. Under a burst the
        handlers' work (queries, rendering) would otherwise share every loop turn with the defers
        and delay them all by the whole burst's cost. Not busy: the handler starts at once and a
        watchdog defers only if it is slow.
        """
        now = time.monotonic()
        self._forget_stale(now)
        self.stats.received += 1
        self.pending[interaction.id] = now
        self.recent_arrivals = self.gauge.arrival(now)
        response = interaction.response
        assert isinstance(response, PolicyResponse)
        hint = self.hints.get(route_key(interaction))
        if hint == "modal":
            dispatch()  # a modal must be the first response: never defer it
            return
        loop = asyncio.get_running_loop()
        ack = self.acknowledger
        if ack is not None and ack.running:
            # Defers leave from the acknowledger thread: the busy loop cannot hold them up.
            if self.defer_safe(interaction, hint) and self._count_busy():
                self.acks_pending += 1
                response.send_ack(ack, delay=0.0)
                response.task = loop.create_task(response.ack_then(dispatch),
                                                 name=f"defer-{interaction.id}")
            else:
                dispatch()
                response.send_ack(ack, delay=self.watchdog_seconds)  # the watchdog, off-loop
            return
        if self.defer_safe(interaction, hint) and self._count_busy():
            self.defers_waiting += 1
            self.defers_done.clear()
            response.task = loop.create_task(response.defer_then(dispatch),
                                             name=f"defer-{interaction.id}")
        else:
            dispatch()
            response.timer = loop.call_later(self.watchdog_seconds, response.fire_watchdog)

    def _count_busy(self) -> bool:
        """busy(), counted in the stats (with its reason) when it is."""
        reason = self.busy_reason()
        if reason is None:
            return False
        stats = self.stats
        stats.deferred_busy += 1
        setattr(stats, f"busy_{reason}", getattr(stats, f"busy_{reason}") + 1)
        return True

    def answered(self, interaction: Interaction) -> None:
        """The handler's answer went out (or was given up): no longer pending."""
        self.pending.pop(interaction.id, None)

    def defer_safe(self, interaction: Interaction, hint: str | None) -> bool:
        """Whether deferring before the handler runs is known not to break its answer.

        A route seen answering with a message (or declaring its visibility in `extras`) is safe;
        a route never seen might open a modal, which must be the first response, so it starts at
        once and only the watchdog may defer it. Modal submits never open a modal.
        """
        if hint is not None or interaction.type is discord.InteractionType.modal_submit:
            return True
        extras = getattr(interaction.command, "extras", None) or {}
        return "ephemeral" in extras

    def learn(self, interaction: Interaction, kind: str) -> None:
        """Remember how this command/button answers ("ephemeral", "public", "modal").

        "modal" stays: a route that opened a form once may open one again (its error answers
        are messages), and a form must be the first response, so it is never deferred early.
        """
        key = route_key(interaction)
        if self.hints.get(key) != "modal":
            self.hints[key] = kind

    def ephemeral_hint(self, interaction: Interaction) -> bool:
        """Whether a thinking defer should be ephemeral (explicit extras, else learned)."""
        command = interaction.command
        extras = getattr(command, "extras", None) or {}
        if "ephemeral" in extras:
            return bool(extras["ephemeral"])
        # Unknown yet: private is the safe guess (a public answer then follows up).
        return self.hints.get(route_key(interaction), "ephemeral") != "public"

    def _forget_stale(self, now: float) -> None:
        if self.pending and now - next(iter(self.pending.values())) > FORGET_AFTER:
            for key, started in list(self.pending.items()):
                if now - started <= FORGET_AFTER:
                    break
                del self.pending[key]


def route_key(interaction: Interaction) -> str:
    """A stable key per command (qualified name) or button/modal family (custom id words)."""
    data: dict[str, Any] = interaction.data or {}  # type: ignore[assignment]
    if interaction.type is discord.InteractionType.application_command:
        parts = [str(data.get("name", ""))]
        options = data.get("options") or []
        while options and options[0].get("type") in (1, 2):
            parts.append(str(options[0].get("name", "")))
            options = options[0].get("options") or []
        return "cmd:" + " ".join(parts)
    # The custom id's leading words, up to three, before the first part with a digit (an id,
    # a page): `gset:w:form` and `gset:w:ro` are different families (one opens a form, the
    # other edits), `gems:lb:<owner>:<page>:next` is `gems:lb` whoever's board it is.
    words: list[str] = []
    for part in str(data.get("custom_id", "")).split(":")[:3]:
        if any(ch.isdigit() for ch in part):
            break
        words.append(part)
    return "cid:" + ":".join(words)


def _is_expired(error: BaseException) -> bool:
    return isinstance(error, discord.HTTPException) and getattr(error, "code", 0) in _EXPIRED_CODES


class PolicyResponse(discord.InteractionResponse):
    """An InteractionResponse that may have been deferred behind the handler's back."""

    def __init__(self, parent: Interaction, policy: ResponsePolicy) -> None:
        super().__init__(parent)
        self.policy = policy
        self.lock = asyncio.Lock()
        #: "thinking" or "update" when the policy deferred; None otherwise.
        self.auto: str | None = None
        self.auto_ephemeral = False
        #: True once the handler's own first response went out (converted or not).
        self.handler_answered = False
        self.timer: asyncio.TimerHandle | None = None
        self.task: asyncio.Task[Any] | None = None
        #: With an acknowledger: who sends the initial response (None once settled), the
        #: acknowledgement's outcome, and the defer it sends (kind, visibility, delay).
        self.claim: Claim | None = None
        self.ack: asyncio.Future[AckOutcome] | None = None
        self.ack_kind, self.ack_ephemeral, self.ack_delay = "thinking", False, 0.0
        #: The thread's defer may have reached Discord although its answer was lost.
        self.ack_uncertain = False

    # -- the policy's side ---------------------------------------------------------------------

    def is_done(self) -> bool:
        """As the handler sees it: False until the handler itself answered."""
        if self.auto is not None and not self.handler_answered:
            return False
        return super().is_done()

    def fire_watchdog(self) -> None:
        """Timer callback: defer unless the handler answered meanwhile."""
        self.timer = None
        if self.handler_answered or super().is_done():
            return
        self.policy.stats.deferred_watchdog += 1
        self.task = asyncio.get_running_loop().create_task(self.auto_defer())

    async def auto_defer(self) -> None:
        """Send the policy's defer, unless the handler responded first (checked under the lock)."""
        parent = self._parent
        async with self.lock:
            if self.handler_answered or super().is_done():
                return
            if parent.type is discord.InteractionType.application_command:
                kind, ephemeral = "thinking", self.policy.ephemeral_hint(parent)
            elif parent.message is not None:
                kind, ephemeral = "update", False
            else:  # a modal opened by a slash command: there is no message to update
                kind, ephemeral = "thinking", self.policy.ephemeral_hint(parent)
            try:
                await super().defer(ephemeral=ephemeral, thinking=kind == "thinking")
            except discord.HTTPException as error:
                self.policy.stats.late_defers += 1
                log.info("could not defer interaction %s: %s", parent.id, error)
                return
            self.auto, self.auto_ephemeral = kind, ephemeral

    def send_ack(self, ack: Acknowledger, *, delay: float) -> None:
        """Ask the acknowledger to defer this interaction after `delay` s unless the handler
        has claimed the initial response by then."""
        parent = self._parent
        update = (parent.type is not discord.InteractionType.application_command
                  and parent.message is not None)
        ephemeral = False if update else self.policy.ephemeral_hint(parent)
        self.claim = Claim()
        self.ack_kind, self.ack_ephemeral, self.ack_delay = (
            "update" if update else "thinking", ephemeral, delay)
        self.ack = ack.acknowledge(self.claim, parent.id, parent.token,
                                   defer_body(update=update, ephemeral=ephemeral), delay=delay)
        self.ack.add_done_callback(outcome_of)  # retrieve it: no "never retrieved" warning

    async def ack_then(self, dispatch: Callable[[], None]) -> None:
        """Busy: wait for this interaction's defer (sent by the acknowledger), then start the
        handler(s) and wait for them (so callers can await one task).

        Each handler starts once its own defer is out, so its work never delays its own
        acknowledgement; while other defers of the burst are in flight at most
        HANDLERS_WHILE_ACKING handlers run at once: hundreds of handlers made ready in one loop
        turn (a browse renders its grid) kept this loop from reading the rest of the burst from
        the gateway for over a second. No burst-wide hold as without the thread: measured with
        one core busy, holding every handler until the burst's defers were out missed more (they
        then all start at once; 0/240/637/199 vs 0/273/0/0 misses for balance/give/browse/click).
        """
        assert self.ack is not None
        policy = self.policy
        slots = policy.handler_slots
        try:
            await asyncio.wait({self.ack})
            async with self.lock:
                self._settle()
        finally:
            policy.acks_pending -= 1
            if policy.acks_pending <= 0:
                policy.acks_pending = 0
                async with slots:
                    slots.notify_all()
        async with slots:
            await slots.wait_for(policy.may_start_handler)
            policy.handlers_running += 1
        try:
            tasks: list[asyncio.Task[Any]] = []
            collect_tasks(tasks, dispatch)
            policy.stats.handlers_awaited += len(tasks)
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            async with slots:
                policy.handlers_running -= 1
                slots.notify(1)

    async def _resolve(self) -> None:
        """Before the handler's first response: take the claim, or wait for the acknowledger's
        defer and settle (call under the lock)."""
        if self.claim is None:
            return
        if self.claim.take("handler"):
            self.claim = None  # the handler sends the initial response; the thread won't
            return
        assert self.ack is not None
        await asyncio.wait({self.ack})
        self._settle()

    def _settle(self) -> None:
        """Apply the acknowledger's outcome once: after a defer the handler's answer is
        converted; expired -> its answer goes by DM; failed -> the handler answers itself."""
        if self.claim is None or self.ack is None or not self.ack.done():
            return
        self.claim = None
        outcome = outcome_of(self.ack)
        if outcome is AckOutcome.ACKED:
            self.auto, self.auto_ephemeral = self.ack_kind, self.ack_ephemeral
            mark_deferred(self, update=self.ack_kind == "update")
            if self.ack_delay > 0:
                self.policy.stats.deferred_watchdog += 1
        elif outcome is AckOutcome.EXPIRED:
            self.policy.stats.late_defers += 1
        else:  # FAILED or UNCERTAIN: the handler answers itself
            self.policy.stats.ack_failures += 1
            self.ack_uncertain = outcome is AckOutcome.UNCERTAIN

    def _adopt_defer(self, error: BaseException) -> bool:
        """The handler's own initial response got 40060 after an uncertain acknowledgement:
        the thread's defer did reach Discord, so the answer is converted instead."""
        if not (self.ack_uncertain and isinstance(error, discord.HTTPException)
                and error.code == 40060):
            return False
        self.ack_uncertain = False
        self.auto, self.auto_ephemeral = self.ack_kind, self.ack_ephemeral
        mark_deferred(self, update=self.ack_kind == "update")
        return True

    async def defer_then(self, dispatch: Callable[[], None]) -> None:
        """Defer, then start the handler(s) and wait for them (so callers can await one task).

        Handlers start once every defer of the burst is out (or after HOLD_AT_MOST seconds, so a
        steady stream cannot starve them): every loop turn a handler takes delays the defers
        still waiting, and the defers are what Discord's deadline is about.
        """
        policy = self.policy
        try:
            await self.auto_defer()
        finally:
            policy.defers_waiting -= 1
            if policy.defers_waiting <= 0:
                policy.defers_waiting = 0
                policy.defers_done.set()
        if not policy.defers_done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(policy.defers_done.wait(), HOLD_AT_MOST)
        tasks: list[asyncio.Task[Any]] = []
        collect_tasks(tasks, dispatch)
        policy.stats.handlers_awaited += len(tasks)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def _finish(self) -> None:
        self.handler_answered = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.policy.answered(self._parent)

    # -- the handler's side --------------------------------------------------------------------

    async def defer(self, *, ephemeral: bool = False, thinking: bool = False) -> Any:
        """The handler defers itself: absorbed when the policy already did."""
        self._learn_answer(ephemeral)
        async with self.lock:
            await self._resolve()
            if self.auto is not None and not self.handler_answered:
                self._finish()
                return None
            try:
                result = await super().defer(ephemeral=ephemeral, thinking=thinking)
            except discord.HTTPException as error:
                if self._adopt_defer(error):  # the thread's defer did arrive: that is this one
                    self._finish()
                    return None
                if not _is_expired(error):
                    raise
                self._finish()
                return None  # the answer that follows goes out by DM (see _deliver_late)
            self._finish()
            return result

    async def send_message(self, content: Any = None, **kwargs: Any) -> Any:
        """The handler's answer: sent, converted after a policy defer, or DMed when too late."""
        ephemeral = bool(kwargs.get("ephemeral", False))
        self._learn_answer(ephemeral)
        async with self.lock:
            await self._resolve()
            if self.auto is None or self.handler_answered:
                try:
                    result = await super().send_message(content, **kwargs)
                except discord.HTTPException as error:
                    if not self._adopt_defer(error):  # adopted: converted below
                        if not _is_expired(error):
                            raise
                        self._finish()
                        await self._deliver_late(content, kwargs)
                        return None
                else:
                    self._finish()
                    return result
            try:
                await self._converted_send(content, kwargs, ephemeral)
            except discord.HTTPException as error:
                if not _is_expired(error):
                    raise
                await self._deliver_late(content, kwargs)
            finally:
                self._finish()
            return None

    async def edit_message(self, **kwargs: Any) -> Any:
        """Edit the component's message; after a policy defer, through the webhook."""
        self._learn_answer(False)
        async with self.lock:
            await self._resolve()
            if self.auto is None or self.handler_answered:
                try:
                    result = await super().edit_message(**kwargs)
                except discord.HTTPException as error:
                    if not self._adopt_defer(error):  # adopted: converted below
                        if not _is_expired(error):
                            raise
                        self._finish()
                        await self._deliver_late(kwargs.get("content"), kwargs)
                        return None
                else:
                    self._finish()
                    return result
            try:
                self.policy.stats.converted += 1
                await self._parent.edit_original_response(**_edit_fields(kwargs))
            except discord.HTTPException as error:
                if not _is_expired(error):
                    raise
                await self._deliver_late(kwargs.get("content"), kwargs)
            finally:
                self._finish()
            return None

    async def send_modal(self, modal: discord.ui.Modal, /) -> Any:
        """A modal must be the first response; remember it so this route is never deferred."""
        self.policy.learn(self._parent, "modal")
        async with self.lock:
            await self._resolve()
            result = await super().send_modal(modal)
            self._finish()
            return result

    def _learn_answer(self, ephemeral: bool) -> None:
        """Remember that this route answers with a message (and, for commands, how visible)."""
        if self.handler_answered:
            return  # a second message says nothing about the first response
        if self._parent.type is discord.InteractionType.application_command:
            self.policy.learn(self._parent, "ephemeral" if ephemeral else "public")
        else:
            self.policy.learn(self._parent, "update")

    # -- conversions ---------------------------------------------------------------------------

    async def _converted_send(self, content: Any, kwargs: dict[str, Any], ephemeral: bool) -> None:
        parent = self._parent
        self.policy.stats.converted += 1
        if self.auto == "update":
            # After a deferred update a followup is a new message, ephemeral as asked.
            await parent.followup.send(content, **_followup_fields(kwargs))
            return
        if ephemeral == self.auto_ephemeral:
            fields = _edit_fields(kwargs)
            if content is not None:
                fields["content"] = str(content)
            await parent.edit_original_response(**fields)
            return
        # The defer guessed the wrong visibility: close the loading message with a neutral
        # line and send the real answer as a followup with the visibility it asked for.
        await parent.edit_original_response(content=_NEUTRAL_DONE)
        await parent.followup.send(content, **_followup_fields(kwargs))
        if not self.auto_ephemeral:  # don't leave a public "Done." behind a private answer
            with contextlib.suppress(discord.HTTPException):
                await parent.delete_original_response()

    async def _deliver_late(self, content: Any, kwargs: dict[str, Any]) -> None:
        """Discord no longer accepts an answer: DM it (unless the member turned DMs off)."""
        parent = self._parent
        text = str(content) if content not in (None, MISSING) else ""
        embeds = [e for e in (kwargs.get("embed"), *(kwargs.get("embeds") or ()))
                  if isinstance(e, discord.Embed)]
        if not text and not embeds:
            self.policy.stats.lost += 1
            return
        where = f" (in {parent.guild.name})" if parent.guild is not None else ""
        text = (f"Discord timed out my answer{where}, so here it is:\n" + text)[:2000]
        extra: dict[str, Any] = {"embeds": embeds[:10]} if embeds else {}
        delivered = False
        if parent.guild_id is not None:
            delivered = await send_dm(self.policy.bot, parent.guild_id, parent.user.id, text, **extra)
        if delivered:
            self.policy.stats.dm_fallbacks += 1
        else:
            self.policy.stats.lost += 1
            log.warning("answer to interaction %s could not reach user %s", parent.id, parent.user.id)


class PolicyInteraction(Interaction):
    """An Interaction whose webhook answers (edit of the original, followups) fall back to a DM.

    A handler that deferred itself answers through the webhook; if the token is dead by then
    (the defer itself came too late), the answer goes to the member by DM like any other.
    """

    __slots__ = ()

    async def edit_original_response(self, **kwargs: Any) -> Any:
        """Edit the original response; DM the content when Discord no longer takes it."""
        try:
            return await super().edit_original_response(**kwargs)
        except discord.HTTPException as error:
            if not _is_expired(error) or not isinstance(self.response, PolicyResponse):
                raise
            await self.response._deliver_late(kwargs.get("content"), kwargs)
            return None

    @property
    def followup(self) -> Any:
        """The followup webhook, with the same fallback on send."""
        return _LateSafeFollowup(super().followup, self)


class _LateSafeFollowup:
    """Delegates to the interaction's followup webhook; `send` falls back to a DM."""

    def __init__(self, hook: discord.Webhook, interaction: PolicyInteraction) -> None:
        self._hook, self._interaction = hook, interaction

    def __getattr__(self, name: str) -> Any:
        return getattr(self._hook, name)

    async def send(self, content: Any = MISSING, **kwargs: Any) -> Any:
        try:
            return await self._hook.send(content, **kwargs)
        except discord.HTTPException as error:
            response = self._interaction.response
            if not _is_expired(error) or not isinstance(response, PolicyResponse):
                raise
            await response._deliver_late(content, kwargs)
            return None


_EDIT_KEYS = ("content", "embed", "embeds", "attachments", "view", "allowed_mentions", "poll")


def _edit_fields(kwargs: dict[str, Any]) -> dict[str, Any]:
    """send_message/edit_message arguments an edit of the original accepts."""
    fields = {k: v for k, v in kwargs.items() if k in _EDIT_KEYS and v is not MISSING}
    files = [f for f in (kwargs.get("file"), *(kwargs.get("files") or ())) if f]
    if files and "attachments" not in fields:
        fields["attachments"] = files
    return fields


_FOLLOWUP_KEYS = ("embed", "embeds", "file", "files", "view", "ephemeral", "allowed_mentions",
                  "tts", "suppress_embeds", "silent", "poll")


def _followup_fields(kwargs: dict[str, Any]) -> dict[str, Any]:
    """send_message arguments a webhook followup accepts."""
    fields = {k: v for k, v in kwargs.items() if k in _FOLLOWUP_KEYS and v is not MISSING}
    if fields.get("view") is None:
        fields.pop("view", None)
    if fields.get("embed") is None:
        fields.pop("embed", None)
    return fields


#: Most HTTP connections the bot opens at once (REST, interaction callbacks, webhooks, gateway).
HTTP_CONNECTIONS = 100


def http_connector() -> aiohttp.TCPConnector:
    """A bounded keep-alive connection pool for discord.py (which defaults to no limit).

    Unbounded, a burst of 1,000 interactions opens 1,000 new connections at once: the SYNs
    overflow the listen backlog and the retransmits (1 s, 3 s) alone miss Discord's deadline.
    A bounded pool queues the requests on warm connections instead. Create it in a running loop.
    """
    return aiohttp.TCPConnector(limit=HTTP_CONNECTIONS, keepalive_timeout=30)


def install_response_policy(bot: Any, *, acknowledge_outside: bool = True,
                            **options: Any) -> ResponsePolicy:
    """Give every interaction the bot receives a PolicyResponse; returns the policy.

    `acknowledge_outside`: defers leave from a thread of their own (bot/acknowledger.py) once
    `policy.start()` ran (GemsBot does at login); otherwise from the bot's event loop.

    Call it from the bot's constructor: the sandbox wraps the gateway parsers when it connects,
    and must wrap this one. The hook itself is one of the patches kept in bot/discord_internals.py.
    """
    if acknowledge_outside:
        options.setdefault("acknowledger", Acknowledger())
    policy = ResponsePolicy(bot, **options)

    def make_interaction(data: Any, state: Any) -> Interaction:
        interaction = PolicyInteraction(data=data, state=state)
        set_response(interaction, PolicyResponse(interaction, policy))
        return interaction

    install_interaction_hook(bot, make_interaction, policy.arrived)
    return policy
