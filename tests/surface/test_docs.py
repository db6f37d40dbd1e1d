"""The docs follow the code: the generated settings reference is current, `.env.example` names
exactly the process settings, the README stays short, and the CLI's help lists every command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from bot.__main__ import COMMANDS, SCRIPT_ONLY
from bot.permissions import invite_url
from bot.settings import Settings
from bot.settings_docs import (
    SETTINGS_DOC,
    render_section,
    render_settings_doc,
    settings_sections,
    write_settings_doc,
)

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]
TOKEN_ID = 123456789012345678


def test_settings_reference_is_current():
    """docs/settings.md is what `./gems docs` renders now: run it after changing a setting."""
    assert SETTINGS_DOC.read_text(encoding="utf-8") == render_settings_doc(), (
        "docs/settings.md is stale: run `./gems docs` (python -m bot docs) and commit it")
    for _, model in settings_sections():
        for name in model.model_fields:
            assert f"| `{name}` |" in SETTINGS_DOC.read_text(encoding="utf-8"), name


def test_the_generator_renders_any_section_from_its_model(tmp_path):
    class Demo(BaseModel):
        daily_amount: int = Field(100, ge=1, le=1_000_000, description="GEMS | per claim")
        shop_channel_id: int | None = Field(None, description="Where the shop posts")
        mode: Literal["highest", "multiply"] = Field("highest", description="Stacking")
        greeting: str = Field("hi", min_length=1, max_length=24, description="Greeting")
        vip_roles: list[int] = Field(default_factory=list, description="Roles")
        on: bool = Field(True, description="Switch")

    text = render_section("Demo feature", Demo)
    assert text.startswith("## Demo feature\n\n6 settings.")
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert rows == [
        "| `daily_amount` | `100` | integer, ≥ 1, ≤ 1,000,000 | GEMS \\| per claim |",
        "| `shop_channel_id` | none | channel (optional) | Where the shop posts |",
        "| `mode` | `highest` | `highest` \\| `multiply` | Stacking |",
        "| `greeting` | `hi` | text, 1-24 characters | Greeting |",
        "| `vip_roles` | empty | list of roles | Roles |",
        "| `on` | `on` | `on` \\| `off` | Switch |",
    ]
    # One section per model passed, in order; `./gems docs` writes the default sections.
    whole = render_settings_doc([("First", Demo), ("Second", Demo)])
    assert whole.index("## First") < whole.index("## Second")
    written = write_settings_doc(tmp_path / "settings.md")
    assert written.read_text(encoding="utf-8") == render_settings_doc()


def _env_example_keys() -> list[str]:
    text = (ROOT / ".env.example").read_text()
    return re.findall(r"^([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE)


def test_env_example_names_exactly_the_process_settings():
    keys = _env_example_keys()
    assert len(keys) == len(set(keys)), "a key is listed twice in .env.example"
    fields = {name.upper() for name in Settings.model_fields}
    assert set(keys) - fields == set(), "in .env.example but not in bot/settings.py"
    assert fields - set(keys) == set(), "in bot/settings.py but not in .env.example"
    operations = (ROOT / "docs" / "operations.md").read_text()
    table = operations.split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    assert set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table)) == fields


def test_env_example_describes_the_store_as_it_is():
    text = (ROOT / ".env.example").read_text()
    assert "127.0.0.1 port" not in text and "Unix socket" in text
    assert re.search(r"^DATA_DIR=var$", text, flags=re.MULTILINE)


def test_readme_is_short_and_points_at_the_docs():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 250
    for doc in ("features", "settings", "operations", "internals", "development"):
        assert f"docs/{doc}.md" in text and (ROOT / "docs" / f"{doc}.md").exists(), doc
    assert "./gems run" in text and "./gems test" in text and "./gems invite" in text


def test_every_cli_command_is_documented_in_operations():
    text = (ROOT / "docs" / "operations.md").read_text()
    for name, line in COMMANDS.items():
        assert re.search(rf"^  {re.escape(name)} +{re.escape(line)}$", text, re.MULTILINE), name


def _bot(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if k not in ("DISCORD_TOKEN", "DISCORD_APPLICATION_ID")}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60, env={**base, **env})


@pytest.mark.slow  # a `python -m bot` child process each
@pytest.mark.parametrize("ask", ["help", "--help", "-h"])
def test_help_lists_every_command_one_line_each(tmp_path, ask):
    result = _bot(ask, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name, line in COMMANDS.items():
        found = [out for out in result.stdout.splitlines() if out.split()[:1] == [name]
                 and out.strip().endswith(line)]
        assert len(found) == 1, (name, result.stdout)
    assert set(SCRIPT_ONLY) <= set(COMMANDS)  # test and lint are listed too


@pytest.mark.slow  # five `python -m bot` child processes
def test_invite_prints_the_link_with_exactly_the_needed_permissions(tmp_path):
    import base64

    result = _bot("invite", "1234", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == invite_url(1234)
    assert "Manage Roles" in result.stderr  # says which permissions it asks for
    result = _bot("invite", cwd=tmp_path, DISCORD_APPLICATION_ID="5678")
    assert result.stdout.strip() == invite_url(5678)
    token = (base64.urlsafe_b64encode(str(TOKEN_ID).encode()).decode().rstrip("=")
             + ".GaBcDe." + "x" * 38)
    result = _bot("invite", cwd=tmp_path, DISCORD_TOKEN=token)
    assert result.returncode == 0 and result.stdout.strip() == invite_url(TOKEN_ID)
    result = _bot("invite", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert "DISCORD_APPLICATION_ID" in result.stderr
    assert _bot("invite", "abc", cwd=tmp_path).returncode == 2
    assert not (tmp_path / "var").exists()  # invite opens no store


def test_relative_links_in_the_docs_resolve():
    for doc in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            assert (doc.parent / target).exists(), f"{doc.name}: {target}"
