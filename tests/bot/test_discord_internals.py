"""The discord.py internals GEMS still relies on (bot/discord_internals.py) are there, with the
shape each patch expects. A discord.py upgrade that moves or changes one fails here; review the
patch against the new version, then update the fingerprint below. That the patches are installed
and effective in the running bot is checked in tests/bot/test_discord_internals_effective.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import inspect
import pkgutil
import textwrap

import aiohttp
import discord
import pytest
from discord.app_commands import CommandTree
from discord.http import HTTPClient
from discord.state import ConnectionState
from discord.ui.view import ViewStore
from discord.utils import CachedSlotProperty

from bot import discord_internals
from cogs._shared.ui import Gated, GatedModal

pytestmark = pytest.mark.timeout(60)

#: sha256 of discord.py 2.7.1's ConnectionState.parse_interaction_create (dedented source).
#: install_interaction_hook is a copy of it: any change upstream must be carried over.
PARSER_FINGERPRINT = "35968b6f4383375a98596daf8e20e8087cc7f4def070e55e1ad2be4f90fbbc79"


def _params(fn) -> list[str]:
    return list(inspect.signature(fn).parameters)


def test_the_interaction_parser_is_the_one_the_hook_copies():
    source = textwrap.dedent(inspect.getsource(ConnectionState.parse_interaction_create))
    digest = hashlib.sha256(source.encode()).hexdigest()
    assert digest == PARSER_FINGERPRINT, (
        f"discord.py {discord.__version__} changed parse_interaction_create (patches reviewed "
        f"against {discord_internals.REVIEWED_VERSION}): port the change into "
        "bot/discord_internals.install_interaction_hook, then update PARSER_FINGERPRINT")


def test_what_the_interaction_hook_calls_has_the_expected_shape():
    client = discord.Client(intents=discord.Intents.none())
    state = client._connection
    assert isinstance(state.parsers, dict)
    assert state.parsers["INTERACTION_CREATE"] == state.parse_interaction_create
    assert state._command_tree is None  # set by the CommandTree constructor below
    tree = CommandTree(client)
    assert state._command_tree is tree
    assert _params(CommandTree._from_interaction) == ["self", "interaction"]
    assert isinstance(state._view_store, ViewStore)
    assert _params(ViewStore.dispatch_view) == ["self", "component_type", "custom_id", "interaction"]
    assert _params(ViewStore.dispatch_modal) == [
        "self", "custom_id", "interaction", "components", "resolved"]
    assert _params(discord.Interaction.__init__) == ["self", "data", "state"]
    assert callable(state.dispatch)


def test_the_response_is_a_cached_slot_the_policy_can_fill():
    prop = discord.Interaction.__dict__["response"]
    assert isinstance(prop, CachedSlotProperty) and prop.name == "_cs_response"
    assert "_cs_response" in discord.Interaction.__slots__


def test_a_defer_sent_elsewhere_is_recorded_where_discord_py_looks():
    """mark_deferred sets the private `_response_type` that defer/is_done/send_message use."""
    assert "self._response_type = InteractionResponseType(defer_type)" in inspect.getsource(
        discord.InteractionResponse.defer)
    assert "return self._response_type is not None" in inspect.getsource(
        discord.InteractionResponse.is_done)
    assert "if self._response_type:" in inspect.getsource(discord.InteractionResponse.send_message)
    response = discord.InteractionResponse.__new__(discord.InteractionResponse)
    response._response_type = None
    discord_internals.mark_deferred(response, update=True)
    assert response.is_done()
    assert response.type is discord.InteractionResponseType.deferred_message_update


def test_the_connector_and_voice_flags_are_read_where_expected():
    assert "connector=self.connector" in inspect.getsource(HTTPClient.static_login)
    assert "self.connector" in inspect.getsource(HTTPClient.__init__)
    assert "VoiceClient.warn_nacl" in inspect.getsource(discord.Client.__init__)
    assert "VoiceClient.warn_dave" in inspect.getsource(discord.Client.__init__)
    discord_internals.silence_voice_warnings()
    assert discord.VoiceClient.warn_nacl is False and discord.VoiceClient.warn_dave is False


def test_the_connector_is_used_by_the_next_login():
    async def run() -> None:
        client = discord.Client(intents=discord.Intents.none())
        connector = aiohttp.TCPConnector(limit=3)
        discord_internals.use_connector(client, connector)
        assert client.http.connector is connector
        await connector.close()

    asyncio.run(run())


def test_collect_tasks_sees_exactly_the_tasks_created_during_the_call():
    async def run() -> None:
        loop = asyncio.get_running_loop()
        before = loop.get_task_factory()
        outside = asyncio.create_task(asyncio.sleep(0))
        spawned: list[asyncio.Task] = []
        made: list[asyncio.Task] = []

        def dispatch() -> None:  # like discord.py's dispatchers: tasks it keeps no handle to
            made.append(asyncio.create_task(asyncio.sleep(0), name="a"))
            made.append(loop.create_task(asyncio.sleep(0), name="b"))

        discord_internals.collect_tasks(spawned, dispatch)
        assert spawned == made and [t.get_name() for t in spawned] == ["a", "b"]
        assert loop.get_task_factory() is before
        await asyncio.gather(outside, *spawned)

    asyncio.run(run())


def _all_subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    todo = [cls]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def _import_cogs() -> None:
    import cogs

    for info in pkgutil.walk_packages(cogs.__path__, "cogs."):
        importlib.import_module(info.name)


def test_every_modal_and_dynamic_item_of_the_cogs_is_gated():
    """The modules gate reaches components and modals through their public interaction_check:
    a control that forgets the `Gated` base would run while its feature is off."""
    _import_cogs()
    ungated = [
        f"{cls.__module__}.{cls.__qualname__}"
        for base in (discord.ui.Modal, discord.ui.DynamicItem)
        for cls in _all_subclasses(base)
        if cls.__module__.startswith("cogs.") and not issubclass(cls, Gated)
        and not getattr(cls, "__abstractmethods__", None)
    ]
    assert ungated == []
    assert Gated.interaction_check is GatedModal.interaction_check
