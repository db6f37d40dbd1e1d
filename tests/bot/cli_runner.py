"""`python -m bot ...` exactly, except that discord.py talks to the sandbox at GEMS_TEST_DISCORD_URL.

Lifecycle tests run this as a subprocess so signals, exit codes and start-up errors are the real
CLI's. (An unroutable GEMS_TEST_DISCORD_URL stands in for a machine without network.)
GEMS_TEST_SKIP_EXTENSIONS (comma separated, e.g. `cogs.goals`) runs an older build without those
features: the next start with every feature is an upgrade whose command tree changed.
"""

import os
import sys

import discord

base = os.environ.get("GEMS_TEST_DISCORD_URL")
if base:
    discord.http.Route.BASE = base.rstrip("/") + "/api/v10"

skipped = {name for name in os.environ.get("GEMS_TEST_SKIP_EXTENSIONS", "").split(",") if name}
if skipped:
    import bot.app

    _all = bot.app.discover_extensions
    bot.app.discover_extensions = lambda package="cogs": [
        name for name in _all(package) if name not in skipped]

from bot.__main__ import main  # noqa: E402  (after the patch, like the sandbox harness)

sys.exit(main(sys.argv[1:]))
