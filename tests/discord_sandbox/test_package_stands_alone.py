"""discord_sandbox is its own package: loading all of it loads nothing of GEMS.

(import-linter checks the import statements in `./gems lint`; this checks what really loads.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]
GEMS_PACKAGES = ("bot", "cogs", "economy", "migrations", "devtools", "tests")

PROBE = f"""
import importlib, pkgutil, sys
import discord_sandbox
for info in pkgutil.iter_modules(discord_sandbox.__path__):
    importlib.import_module("discord_sandbox." + info.name)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {GEMS_PACKAGES!r})
print("modules:", len([m for m in sys.modules if m.startswith("discord_sandbox.")]))
print("gems:", loaded)
"""


@pytest.mark.slow  # a child process
def test_loading_every_sandbox_module_loads_no_gems_module():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True,
                         timeout=50, check=True).stdout
    assert "gems: []" in out, out
    assert int(out.split("modules:")[1].split()[0]) >= 10  # every module really loaded
