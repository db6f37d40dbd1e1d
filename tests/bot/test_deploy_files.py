"""The Docker files: structure checked with a YAML parser (no Docker engine on these machines)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(30)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_mongo_is_a_single_node_replica_set_initialised_by_its_healthcheck(compose):
    mongo = compose["services"]["mongo"]
    assert mongo["image"] == "mongo:8"
    assert mongo["command"][:2] == ["--replSet", "rs0"]
    test = " ".join(mongo["healthcheck"]["test"])
    assert "rs.initiate" in test and "_id: 'rs0'" in test and "host: 'mongo:27017'" in test
    assert "isWritablePrimary" in test  # healthy only once writes are possible
    volume = mongo["volumes"][0].split(":")
    assert volume[1] == "/data/db" and volume[0] in compose["volumes"]  # a named volume


def test_bot_waits_for_the_replica_set_and_points_at_it(compose):
    bot = compose["services"]["bot"]
    assert bot["build"] == "."
    assert bot["depends_on"]["mongo"]["condition"] == "service_healthy"
    env = bot["environment"]
    uri = env["MONGODB_URI"]
    assert uri.startswith("mongodb://mongo:27017/") and "replicaSet=rs0" in uri
    # Every variable the file sets is a real setting that validates.
    settings = Settings(_env_file=None, **{k.lower(): v for k, v in env.items()})
    assert settings.mongodb_uri == uri and settings.auto_migrate and settings.web_port == 8080
    assert bot["ports"] == ["127.0.0.1:8080:8080"]  # /metrics stays on the host's loopback
    assert bot["env_file"][0]["path"] == ".env" and bot["env_file"][0]["required"] is False


def test_dockerfile_is_slim_non_root_runtime_only():
    text = (ROOT / "Dockerfile").read_text()
    instructions = [line.split()[0] for line in text.splitlines()
                    if line and not line.startswith((" ", "#"))]
    assert re.search(r"^FROM python:3\.1[1-9]-slim$", text, re.M)
    assert "[dev]" not in text  # no test or lint dependencies in the image
    assert instructions.index("USER") < instructions.index("ENTRYPOINT")
    assert re.search(r"^USER gems$", text, re.M) and "useradd" in text
    assert "/healthz" in text.split("HEALTHCHECK", 1)[1]
    for source in re.findall(r"^COPY (\S+) ", text, re.M):
        assert (ROOT / source).exists(), source  # every copied path exists
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".env", "tests", "var", "data/*.db"} <= set(ignored)
    assert "ENV DATA_DIR=/var/lib/gems" in text  # runtime data in the volume, not in data/


def test_runtime_data_is_ignored_and_apart_from_shipped_content():
    """DATA_DIR defaults to var/ (git-ignored); data/ holds only shipped content."""
    assert str(Settings(_env_file=None).data_dir) == "var"
    assert "var/" in (ROOT / ".gitignore").read_text().split()
    assert (ROOT / "data" / "categories.json").exists()


def test_image_ships_the_sandbox_but_not_the_dev_stand_ins():
    """`run` without a token plays the demo (discord_sandbox); devtools/ stays out of the image."""
    text = (ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\S+) ", text, re.M))
    assert "discord_sandbox" in copied
    assert not {"devtools", "tests", "bench"} & copied
    assert "devtools" in (ROOT / ".dockerignore").read_text().split()
