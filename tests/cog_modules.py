"""Execute every cog module once per test process, not once per test bot.

Every test that talks to the Discord sandbox starts its own GemsBot, and a bot that closes
unloads its extensions: discord.py deletes each `cogs.<feature>` package *and all its submodules*
from `sys.modules`, so the next bot's `discover_extensions()` executes every cog module again
(class bodies, decorators, command trees: ~0.4 s per bot, most of an e2e test's set-up).

`keep_cog_modules()` puts the modules of the first load back into `sys.modules` before each later
discovery. Each bot still runs its own `load_extension` (the package's `setup(bot)` executes
again) and gets its own cog instances: discord.py copies every app command, group and listener
per cog instance (`Cog.__new__`, `_copy_with(binding=self)`), which is what lets several bots in
one process share cog classes. Only the module bodies are shared, as they are in one bot process.

A closing bot also sweeps all of `sys.modules` once per extension to delete the extension's
submodules (discord.py's `_call_module_finalizers`: ~20 extensions x ~1,600 modules, ~80 ms per
test bot). The kept modules would be put back anyway, so while open the sweep is skipped: the
extension's `teardown` still runs and the bot still forgets the extension.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import pytest
from discord.ext.commands.bot import BotBase

import bot.app


@contextmanager
def keep_cog_modules() -> Iterator[None]:
    """While open, `bot.app.discover_extensions` reuses the cog modules it imported first."""
    kept: dict[str, ModuleType] = {}
    found: dict[str, list[str]] = {}  # package -> its extensions (the tree does not change)
    discover = bot.app.discover_extensions

    def discover_kept(package: str = "cogs") -> list[str]:
        prefix = package + "."
        for name, module in kept.items():
            if name.startswith(prefix):
                sys.modules.setdefault(name, module)  # a module still loaded stays as it is
        if package not in found:  # the first discovery imported every module to keep
            found[package] = discover(package)
            kept.update((n, m) for n, m in list(sys.modules.items()) if n.startswith(prefix))
        return list(found[package])

    async def finalize_keeping_modules(self: BotBase, lib: ModuleType, key: str) -> None:
        teardown = getattr(lib, "teardown", None)
        if teardown is not None:
            with contextlib.suppress(Exception):  # as discord.py: a failing teardown is ignored
                await teardown(self)
        self._BotBase__extensions.pop(key, None)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bot.app, "discover_extensions", discover_kept)
        mp.setattr(BotBase, "_call_module_finalizers", finalize_keeping_modules)
        yield
