"""Capturing the asyncio tasks a synchronous call creates (discord.py's dispatchers spawn them).

The sandbox keeps its own copy (GEMS's bot has the same helper in ``bot/discord_internals.py``) so the
emulator imports nothing of the project that uses it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


def collect_tasks(into: list[asyncio.Task[Any]], fn: Callable[..., Any], *args: Any) -> None:
    """Call fn(*args), appending every task it creates to `into`.

    A task factory sees exactly the tasks created during the call, at O(1) each; diffing
    `asyncio.all_tasks()` costs O(all tasks) per call, which under a burst of hundreds of
    interactions becomes the slow part.
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
