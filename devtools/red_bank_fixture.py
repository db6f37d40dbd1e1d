"""Write the Red-DiscordBot bank files the import tests read (tests/currency/fixtures/red_*.json).

Run it with the interpreter of the scratch Red install (Red pins its own discord.py, so it cannot
share the bot's virtualenv; `bench/ledger_compare.py` creates bench/.venv-red on first use):

    bench/.venv-red/bin/python devtools/red_bank_fixture.py

Each file is what Red 3.5's JSON storage driver itself wrote to `<data path>/cogs/<Cog>/settings.json`
after Red's own APIs ran in a temporary data directory (no hand-written JSON):
- `red_bank_guild.json`: a per-server bank (Red's default) with accounts in two servers, made by
  `bank.set_balance`, `bank.deposit_credits` (which starts from the default balance, 100),
  `bank.withdraw_credits` and `bank.transfer_credits`;
- `red_bank_global.json`: the same bank switched to global (`bank.set_global(True)`: one balance
  per user, across servers);
- `red_economy_cog.json`: the Economy cog's own Config file (payday timers, no balances), the
  file an admin may pick by mistake.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

OUT = Path(__file__).resolve().parents[1] / "tests" / "currency" / "fixtures"
GUILD_A, GUILD_B = 700000000000000001, 700000000000000002
ALICE, BOB, CAROL, DAVE = 412345678901234561, 412345678901234562, 412345678901234563, 412345678901234564


def _configure(data_path: str) -> None:
    # The bootstrap config `redbot-setup` would write, kept in memory: the user's Red
    # configuration file is never touched.
    from redbot.core import data_manager

    data_manager.basic_config = {
        "DATA_PATH": data_path, "COG_PATH_APPEND": "cogs", "CORE_PATH_APPEND": "core",
        "STORAGE_TYPE": "JSON", "STORAGE_DETAILS": {},
    }
    data_manager._instance_name = "gems-fixture"


def _member(user_id: int, guild_id: int, name: str) -> SimpleNamespace:
    return SimpleNamespace(id=user_id, guild=SimpleNamespace(id=guild_id), display_name=name,
                           name=name, bot=False)


async def _bank_files(data_path: Path) -> None:
    from redbot.core import _drivers, bank, data_manager

    driver = _drivers.get_driver_class()
    await driver.initialize(**data_manager.storage_details())
    await bank._init()
    alice, bob = _member(ALICE, GUILD_A, "alice"), _member(BOB, GUILD_A, "bob")
    carol, dave = _member(CAROL, GUILD_A, "carol"), _member(DAVE, GUILD_B, "dave")
    await bank.set_balance(alice, 1_500)
    await bank.deposit_credits(bob, 250)  # a new account starts at the default balance (100)
    await bank.transfer_credits(alice, bob, 300)
    await bank.set_balance(carol, 40)
    await bank.withdraw_credits(carol, 40)  # an account that holds nothing now
    await bank.set_balance(dave, 9_000)  # another server's member
    settings = data_path / "cogs" / "Bank" / "settings.json"
    shutil.copyfile(settings, OUT / "red_bank_guild.json")
    await bank.set_global(True)  # Red clears the per-server accounts when it switches
    await bank.set_balance(_member(ALICE, GUILD_A, "alice"), 777)
    await bank.set_balance(_member(DAVE, GUILD_B, "dave"), 123)
    shutil.copyfile(settings, OUT / "red_bank_global.json")
    await driver.teardown()


async def _economy_file(data_path: Path) -> None:
    from redbot.cogs.economy.economy import Economy
    from redbot.core import Config

    # The Economy cog's own Config (its identifier and defaults, from the cog class).
    config = Config.get_conf(None, 1256844281, cog_name="Economy")
    config.register_member(**Economy.default_member_settings)
    config.register_user(**Economy.default_user_settings)
    await config.member(_member(ALICE, GUILD_A, "alice")).next_payday.set(1_700_000_000)
    shutil.copyfile(data_path / "cogs" / "Economy" / "settings.json", OUT / "red_economy_cog.json")


def main() -> None:
    """Drive Red's bank in a temporary data directory and copy the files it wrote."""
    import redbot

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="red-fixture-") as tmp:
        _configure(tmp)
        asyncio.run(_bank_files(Path(tmp)))
        asyncio.run(_economy_file(Path(tmp)))
    print(f"Red {redbot.__version__}: wrote red_bank_guild.json, red_bank_global.json and "
          f"red_economy_cog.json to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
