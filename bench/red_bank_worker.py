"""Runs one transfer workload through Red-DiscordBot's bank API (JSON driver); prints JSON.

Started by bench/ledger_bench.py with the interpreter of bench/.venv-red (Red pins its own
discord.py, so it cannot share the bot's virtualenv). Reads the workload as JSON on stdin:
{"guild": id, "members": [ids], "seed_balance": n, "transfers": [[from, to, amount], ...]}
and answers {"seconds": s, "ok": n, "refused": n, "before": total, "after": total}.
Only the concurrent transfers are timed (not the interpreter start or the seeding).
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from types import SimpleNamespace


def _configure(data_path: str) -> None:
    # The bootstrap config `redbot-setup` would write, kept in memory: nothing touches the
    # user's Red configuration file.
    from redbot.core import data_manager

    data_manager.basic_config = {
        "DATA_PATH": data_path, "COG_PATH_APPEND": "cogs", "CORE_PATH_APPEND": "core",
        "STORAGE_TYPE": "JSON", "STORAGE_DETAILS": {},
    }
    data_manager._instance_name = "gems-bench"


async def run(work: dict) -> dict:
    """Seed the members, race the transfers, and report the totals before and after."""
    from redbot.core import _drivers, bank, data_manager

    driver = _drivers.get_driver_class()
    await driver.initialize(**data_manager.storage_details())
    await bank._init()
    guild = SimpleNamespace(id=work["guild"])
    members = {uid: SimpleNamespace(id=uid, guild=guild, display_name=f"member{uid}",
                                    name=f"member{uid}", bot=False)
               for uid in work["members"]}
    for member in members.values():
        await bank.set_balance(member, work["seed_balance"])
    before = sum([await bank.get_balance(m) for m in members.values()])

    async def one(sender: int, recipient: int, amount: int) -> bool:
        try:
            await bank.transfer_credits(members[sender], members[recipient], amount)
            return True
        except ValueError:  # insufficient funds
            return False

    started = time.perf_counter()
    results = await asyncio.gather(*[one(*t) for t in work["transfers"]])
    seconds = time.perf_counter() - started
    after = sum([await bank.get_balance(m) for m in members.values()])
    await driver.teardown()
    return {"seconds": seconds, "ok": sum(results), "refused": len(results) - sum(results),
            "before": before, "after": after}


def main() -> None:
    """Read the workload from stdin, run it, print the result as one JSON line."""
    work = json.load(sys.stdin)
    with tempfile.TemporaryDirectory(prefix="red-bench-") as data_path:
        _configure(data_path)
        print(json.dumps(asyncio.run(run(work))), flush=True)


if __name__ == "__main__":
    main()
