"""Every place GEMS relies on discord.py beyond its public API, and why (docs/internals.md).

Everything else goes through public hooks: the modules gate and the command metrics run in
`GemsTree.interaction_check` (bot/tree.py) and in the `interaction_check` of the shared component
and modal bases (cogs/_shared/ui.py); dynamic items are recorded by overriding the public
`Client.add_dynamic_items`. What is left here exists only because burst load needs it and no
public way serves. `tests/test_discord_internals.py` checks that each patch still finds what it
relies on, with the shape it expects, and that it is installed and effective: a discord.py
upgrade that breaks one fails there, not in production.

Checked against discord.py 2.7.1.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
import discord
from discord.interactions import Interaction, InteractionResponse

#: The discord.py version these patches were last reviewed against (the test reports a change).
REVIEWED_VERSION = "2.7.1"

#: Interaction types the hook takes over: application command, component, modal submit.
#: Autocomplete (4) is left to discord.py: it cannot be deferred.
HOOKED_TYPES = (2, 3, 5)


def install_interaction_hook(
    client: discord.Client,
    make_interaction: Callable[[dict[str, Any], Any], Interaction],
    arrived: Callable[[Interaction, Callable[[], None]], None],
) -> Callable[[Any], None]:
    """Replace the client's INTERACTION_CREATE parser with one that lets `arrived` decide when
    the handlers start; returns the new parser.

    Why no public way serves: the response policy (bot/response_policy.py) must (1) give each
    interaction its own response object before any handler can answer, and (2) under a burst,
    send the defer *before* the handler is even scheduled, because every loop turn a handler
    takes delays the defers still waiting and Discord's 3 s deadline applies to those. discord.py
    builds the `Interaction` and schedules its handlers inside one synchronous parser
    (`ConnectionState.parse_interaction_create`); `on_interaction` is dispatched only after the
    handlers are scheduled, and `interaction_check` runs inside the handler's task. No option
    chooses the Interaction class or its response. So this is a copy of discord.py's parser with
    one change: the dispatch to the command tree / view store is handed to `arrived`, which calls
    it at once or after the defer. Uses `ConnectionState.parsers`, `_command_tree`,
    `_command_tree._from_interaction`, `_view_store.dispatch_view` / `dispatch_modal` and
    `dispatch`. Call it from the client's constructor: the sandbox wraps the parsers when it
    connects and must wrap this one.
    """
    state = client._connection
    parsers: dict[str, Any] = state.parsers
    original = parsers["INTERACTION_CREATE"]

    def parse_interaction_create(data: Any) -> None:
        if data.get("type") not in HOOKED_TYPES or (data["type"] == 2 and not state._command_tree):
            original(data)
            return
        interaction = make_interaction(data, state)
        inner = data["data"]

        def dispatch() -> None:
            if data["type"] == 2:
                state._command_tree._from_interaction(interaction)
            elif data["type"] == 3:
                state._view_store.dispatch_view(inner["component_type"], inner["custom_id"],
                                                interaction)
            else:
                state._view_store.dispatch_modal(
                    inner["custom_id"], interaction, inner["components"], inner.get("resolved", {})
                )

        arrived(interaction, dispatch)
        state.dispatch("interaction", interaction)

    parse_interaction_create.__gems_hook__ = True  # type: ignore[attr-defined]
    parsers["INTERACTION_CREATE"] = parse_interaction_create
    return parse_interaction_create


def set_response(interaction: Interaction, response: InteractionResponse) -> None:
    """Give `interaction` its response object (what `interaction.response` returns).

    Why no public way serves: `Interaction.response` is a cached slot property that always
    builds a plain `InteractionResponse`; the policy's response must be the one every handler
    sees, so that a defer the policy sent is invisible to the handler. Uses the slot
    `_cs_response`.
    """
    interaction._cs_response = response  # type: ignore[attr-defined]


def mark_deferred(response: InteractionResponse, *, update: bool) -> None:
    """Record on `response` that its interaction was deferred by someone else (the acknowledger
    thread, bot/acknowledger.py): `is_done()` becomes True and followups/edits are allowed.

    Why no public way serves: discord.py only records a response it sent itself, in the private
    `InteractionResponse._response_type` (set by `defer`, read by `is_done` and by
    `send_message`'s "already responded" check). A defer sent from another thread, over another
    session, must be recorded the same way, or the handler's answer would try a second initial
    response. Uses `InteractionResponse._response_type`.
    """
    response._response_type = (  # type: ignore[attr-defined]
        discord.InteractionResponseType.deferred_message_update if update
        else discord.InteractionResponseType.deferred_channel_message)


def collect_tasks(into: list[asyncio.Task[Any]], fn: Callable[..., Any], *args: Any) -> None:
    """Call fn(*args), appending every task it creates to `into`.

    Why: after a burst defer the policy waits for the handler tasks discord.py's dispatchers
    (`_from_interaction`, `dispatch_view`, `dispatch_modal`) create, and discord.py returns no
    handle to them. It relies on those dispatchers creating their tasks synchronously, during
    the call. A temporary task factory (public asyncio API) sees exactly the tasks created
    during the call, at O(1) each; diffing `asyncio.all_tasks()` costs O(all tasks) per call,
    which under a burst of hundreds of interactions becomes the slow part.
    """
    loop = asyncio.get_running_loop()
    previous = loop.get_task_factory()

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        task = previous(loop, coro, **kwargs) if previous else asyncio.Task(coro, loop=loop, **kwargs)
        into.append(task)
        return task

    loop.set_task_factory(factory)
    try:
        fn(*args)
    finally:
        loop.set_task_factory(previous)


def use_connector(client: discord.Client, connector: aiohttp.BaseConnector) -> None:
    """Make the client's next login open its HTTP session over `connector`.

    Why: the public `Client(connector=...)` option needs the connector at construction, and
    aiohttp builds a connector only inside a running event loop, while GemsBot may be constructed
    outside one (the CLI, tests). discord.py creates its session in `login` from
    `HTTPClient.connector`, so setting it just before login is the same thing, later.
    """
    client.http.connector = connector


def silence_voice_warnings() -> None:
    """GEMS has no voice features: don't warn about missing voice libraries at every start.

    Why: discord.py warns once per process from `Client.__init__` while the class attributes
    `VoiceClient.warn_nacl` / `warn_dave` are true; no constructor option turns it off.
    """
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False
