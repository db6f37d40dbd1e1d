"""NFT role sync at scale: N linked wallets x 3 rules, read at one block over JSON-RPC HTTP.

The chain is eth-tester (py-evm) behind the tests' local JSON-RPC endpoint, so this measures the
production path (web3 AsyncHTTPProvider, aggregate3 batches, ERC-1155 balanceOfBatch) plus the
guild diff; py-evm executes every call in Python, so a real node answers much faster. Prints:
  - seconds and RPC calls for the first sync (plan) and for an unchanged second sync
  - RPC calls per 1,000 wallets per rule (goal <= 5)
  - role changes planned (first sync) and planned again with no chain change (must be 0)

Run: `.venv/bin/python bench/nft_sync_bench.py [--wallets 10000] [--batch 500]`
(needs the dev extra: eth-tester, py-evm).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

from eth_account import Account

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.store import open_store
from devtools.chain.rig import ChainRig
from economy.core.actor import Actor
from economy.core.clock import ManualClock
from economy.core.migrations import Migrator
from economy.nft.chain import ChainRegistry
from economy.services import build_services

G = 1
ROLE_ANY, ROLE_RARE, ROLE_1155 = 11, 12, 13


async def bench(wallets: int, batch: int) -> None:
    rig = ChainRig().start()
    clock = ManualClock()
    rng = random.Random(1)
    t = time.perf_counter()
    users = {10_000 + i: Account.create().address for i in range(wallets)}
    holders = rng.sample(list(users), wallets // 2)
    rig.mint721([users[u] for u in holders], 1)
    rig.mint1155([users[u] for u in rng.sample(list(users), wallets // 3)], 7, amount=2)
    setup_chain = time.perf_counter() - t
    registry = ChainRegistry(urls={rig.chain_id: rig.url}, aggregator=rig.aggregator,
                             timeout=60, batch_size=batch, sync_deadline=600)  # py-evm is slow
    async with await open_store(mongodb_uri=None, database_name="bench", data_dir="memory") as store:
        await Migrator(store.db, clock).apply_pending()
        s = build_services(store.db, clock, chains=registry)
        await s.wallets._repo.insert_many([
            {"guild_id": G, "user_id": u, "address": a, "linked_ms": 0} for u, a in users.items()])
        c = rig.chain_id
        await s.nft.add_rule(G, Actor.system(), chain_id=c, contract=rig.erc721, standard="erc721", role_id=ROLE_ANY)
        await s.nft.add_rule(G, Actor.system(), chain_id=c, contract=rig.erc721, standard="erc721",
                             role_id=ROLE_RARE, token_ids="1-500")
        await s.nft.add_rule(G, Actor.system(), chain_id=c, contract=rig.erc1155, standard="erc1155",
                             role_id=ROLE_1155, token_ids="7", min_count=2)
        current: dict[int, set[int]] = {u: set() for u in users}
        rig.calls.clear()
        t = time.perf_counter()
        first = await s.nft.plan(G, current)
        first_seconds = time.perf_counter() - t
        first_calls = rig.total_calls
        for change in first.changes:
            (current[change.user_id].add if change.add else current[change.user_id].discard)(
                change.role_id)
        rig.calls.clear()
        t = time.perf_counter()
        second = await s.nft.plan(G, current)
        second_seconds = time.perf_counter() - t
        await registry.close()
    rig.stop()
    per = first_calls / (wallets / 1000) / 3
    print(f"NFT sync bench: {wallets:,} linked wallets x 3 rules (ERC-721 any, ERC-721 ids 1-500, "
          f"ERC-1155 id 7 >= 2), aggregate3 batch {batch}")
    print(f"  chain setup (accounts + batch mints): {setup_chain:.1f} s")
    print(f"  first sync plan:  {first_seconds:.1f} s, {first_calls} RPC calls "
          f"({per:.2f} per 1,000 wallets per rule; goal <= 5), {len(first.changes):,} role changes")
    print(f"  second sync plan: {second_seconds:.1f} s, {rig.total_calls} RPC calls, "
          f"{len(second.changes)} role changes (must be 0)")
    print(f"  ratio second/first time: {second_seconds / first_seconds:.2f}")
    if first.errors:
        print("  errors: " + "; ".join(first.errors))
    if second.changes or per > 5 or first.errors or not first.changes:
        raise SystemExit("bench expectations failed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wallets", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(bench(args.wallets, args.batch))


if __name__ == "__main__":
    main()
