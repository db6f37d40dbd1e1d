"""`python -m bot ...` exactly, except that discord.py talks to the sandbox at GEMS_TEST_DISCORD_URL.

Lifecycle tests run this as a subprocess so signals, exit codes and start-up errors are the real
CLI's. (An unroutable GEMS_TEST_DISCORD_URL stands in for a machine without network.)
"""

import os
import sys

import discord

base = os.environ.get("GEMS_TEST_DISCORD_URL")
if base:
    discord.http.Route.BASE = base.rstrip("/") + "/api/v10"

from bot.__main__ import main  # noqa: E402  (after the patch, like the sandbox harness)

sys.exit(main(sys.argv[1:]))
