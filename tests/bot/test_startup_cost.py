"""What the bot process pays before READY and keeps per interaction (issue 28)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(120)

_PROBE = """
import importlib, pkgutil, sys
import bot, cogs, economy
for package in (bot, cogs, economy):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if info.name.startswith("bot.demo"):  # the offline demo signs with a test wallet
            continue
        importlib.import_module(info.name)
print(sorted(m for m in sys.modules if m.split(".")[0] in ("eth_account", "py_ecc", "eth_keyfile")))
"""


@pytest.mark.slow  # a child process importing every module
def test_no_module_of_the_bot_imports_the_wallet_signing_stack():
    """eth_account/py_ecc (~0.3 s of start-up) load only when a member links a wallet."""
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                         check=True, timeout=100)
    assert out.stdout.strip() == "[]", out.stdout


def test_signature_recovery_still_works_after_the_lazy_import():
    from eth_account import Account
    from eth_account.messages import encode_defunct

    from economy.nft.siwe import recover

    account = Account.create()
    signed = account.sign_message(encode_defunct(text="hello"))
    assert recover("hello", "0x" + signed.signature.hex().removeprefix("0x")) == account.address


_START_PROBE = """
import asyncio, sys

async def main():
    from bot.app import GemsBot
    from bot.settings import Settings
    from bot.store import open_store
    from economy.core.clock import SystemClock
    from economy.core.migrations import Migrator
    from economy.services import build_services

    settings = Settings(_env_file=None, discord_token=None, web_port=0)
    async with await open_store(mongodb_uri=None, database_name="probe", data_dir="memory") as store:
        await Migrator(store.db, SystemClock()).apply_pending()
        services = build_services(store.db, SystemClock(), **settings.nft_service_options())
        bot = GemsBot(services=services, settings=settings, run_jobs=False, run_web=False)
        await bot.setup_hook()  # every cog loaded, as at a start (never logged in: no close)

asyncio.run(main())
print(sorted({m.split(".")[0] for m in sys.modules} & {"stripe", "eth_abi", "parsimonious"}))
"""


@pytest.mark.slow  # a child process starting a store and loading every cog
def test_a_plain_start_loads_neither_stripe_nor_the_abi_codec():
    """Without Stripe keys the stripe package (~0.3 s) never loads; the ABI codec (eth_abi and
    its grammar parser, ~0.25 s) loads at the first chain read, not at start-up."""
    out = subprocess.run([sys.executable, "-c", _START_PROBE], capture_output=True, text=True,
                         check=True, timeout=100)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


def test_chain_abi_helpers_still_encode_and_decode():
    from economy.nft.chain import decode, encode

    assert decode(["uint256", "address"], encode(["uint256", "address"], [7, "0x" + "11" * 20])) \
        == (7, "0x" + "11" * 20)


@pytest.mark.slow  # a child process
def test_a_maintenance_command_with_bad_arguments_answers_before_the_runtime_loads():
    """`python -m bot rollup --since nope` is refused without importing discord.py or pymongo."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "bot", "rollup", "--since",
                          "nope"], capture_output=True, text=True, timeout=100)
    assert out.returncode == 2
    assert "'nope' is not a date like 2026-01-01." in out.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines()
                if line.startswith("import time:")}
    assert not imported & {"discord", "pymongo", "stripe", "eth_abi", "bot.runtime"}, \
        sorted(imported & {"discord", "pymongo", "stripe", "eth_abi", "bot.runtime"})
