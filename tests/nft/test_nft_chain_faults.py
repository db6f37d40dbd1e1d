"""NFT role plans against misbehaving nodes (economy level, real JSON-RPC through a faulty proxy):
a node of another chain, malformed answers, a node that hangs; the RPC count is the sync's own."""

from __future__ import annotations

import asyncio
import time

import pytest
from eth_account import Account

from economy.core.actor import Actor
from economy.core.errors import InvalidInput
from economy.nft.chain import ChainRegistry
from economy.services import build_services
from tests.nft.test_nft_sync import ROLE_A, ROLE_B, ROLE_C, G, link_many, three_rules

pytestmark = pytest.mark.timeout(60)


async def services_on(store, clock, urls: dict[int, str], chain, **options):
    registry = ChainRegistry(urls=urls, aggregator=chain.aggregator, **options)
    return build_services(store.db, clock, chains=registry), registry


async def store_rules_directly(services, chain, chain_id: int) -> None:
    """Rules as they were stored before the node behind the URL changed (add_rule now refuses)."""
    for rule_id, (role, contract, standard, ranges, low) in enumerate([
            (ROLE_A, chain.erc721, "erc721", [], 1),
            (ROLE_B, chain.erc721, "erc721", [[1, 300]], 1),
            (ROLE_C, chain.erc1155, "erc1155", [[7, 7]], 2)], start=1):
        await services.db["nft_rules"].insert_one({
            "guild_id": G, "rule_id": rule_id, "role_id": role, "chain_id": chain_id,
            "contract": contract, "standard": standard, "ranges": ranges, "min_count": low,
            "max_count": None, "group": None, "created_by": 0, "created_ms": 0})


async def test_a_node_of_another_chain_adds_no_rule_and_changes_no_role(store, clock, chain):
    # CHAIN_RPC_URLS="1=<a node of the rig's chain>": the reported misconfiguration.
    services, registry = await services_on(store, clock, {1: chain.url}, chain)
    try:
        with pytest.raises(InvalidInput, match=f"serves chain {chain.chain_id}"):
            await services.nft.add_rule(G, Actor(1, is_admin=True), chain_id=1, contract=chain.erc721,
                                        standard="erc721", role_id=ROLE_A)
        assert await services.nft.rules(G) == []
        users = await link_many(services, 20)
        await store_rules_directly(services, chain, 1)
        # Nobody holds anything on the rig's chain: read there, every role would be taken.
        plan = await services.nft.plan(G, {u: {ROLE_A, ROLE_B, ROLE_C} for u in users})
        assert plan.changes == [] and plan.unknown == 60 and plan.blocks == {}
        assert f"configured for chain 1 serves chain {chain.chain_id}" in plan.errors[0]
        assert chain.calls["eth_call"] == 0 and plan.rpc_calls == 1  # only eth_chainId
        with pytest.raises(InvalidInput, match="Wallet linking is paused"):
            await services.nft.check_link_chain(1)
        scan = await services.nft.scan_transfers(G)
        assert scan.cursors == {} and "serves chain" in scan.errors[0]
    finally:
        await registry.close()


@pytest.mark.parametrize("mode", ["empty", "nothex", "null", "error", "html", "wrong_id"])
async def test_a_malformed_block_number_is_an_error_not_a_crash(store, clock, chain, faulty, mode):
    services, registry = await services_on(store, clock, {chain.chain_id: faulty.url}, chain)
    try:
        users = await link_many(services, 5)
        await three_rules(services, chain)
        faulty.fault(mode, method="eth_blockNumber")
        plan = await services.nft.plan(G, {u: {ROLE_A} for u in users})
        assert plan.changes == [] and plan.unknown == 15
        assert "eth_blockNumber" in plan.errors[0]
        assert "roles that depend on it were left alone" in plan.errors[0]
    finally:
        await registry.close()


@pytest.mark.slow  # waits out a 2 s wall-clock deadline
async def test_a_hanging_node_ends_the_sync_within_its_deadline_and_writes_go_on(
        store, clock, chain, faulty):
    # The reported case: a node that hangs after the first good calls, 1,041 wallets.
    services, registry = await services_on(store, clock, {chain.chain_id: faulty.url}, chain,
                                           timeout=30.0, batch_size=100, sync_deadline=2.0)
    try:
        users = await link_many(services, 1041)
        await three_rules(services, chain)
        faulty.calls.clear()
        faulty.fault("hang", after=2)  # eth_chainId and eth_blockNumber answer, then silence
        started = time.monotonic()
        sync = asyncio.create_task(services.nft.plan(G, {u: {ROLE_A} for u in users}))
        assert await asyncio.to_thread(faulty.hanging.wait, 10)
        # Meanwhile other store writes (a single write and a transaction) go through at once.
        t = time.monotonic()
        await asyncio.wait_for(services.nft._repo.record_sync(G + 1, {"at_ms": 1}), 2.0)
        await asyncio.wait_for(services.db.transaction(
            lambda s: services.db["wallets"].insert_one(
                {"guild_id": G + 1, "user_id": 1, "address": Account.create().address,
                 "linked_ms": 0}, session=s)), 2.0)
        writes = time.monotonic() - t
        assert not sync.done() and writes < 1.5
        plan = await sync
        elapsed = time.monotonic() - started
        assert elapsed < 2.0 + 8.0, elapsed  # one 2 s deadline (generous slack), not 30 s/batch
        assert sum(faulty.calls.values()) == 3 and plan.rpc_calls == 3  # nothing after the hang
        assert plan.changes == [] and plan.unknown == 1041 * 3
        assert any("stopped after the first timeout" in e for e in plan.errors), plan.errors
    finally:
        await registry.close()


@pytest.mark.slow
async def test_the_rpc_count_is_the_syncs_own(store, clock, chain):
    services, registry = await services_on(store, clock, {chain.chain_id: chain.url}, chain,
                                           batch_size=50)
    try:
        users = await link_many(services, 200)
        await three_rules(services, chain)
        current = {u: set() for u in users}
        chain.calls.clear()
        alone = await services.nft.plan(G, current)
        assert alone.rpc_calls == chain.total_calls
        chain.calls.clear()
        # Another job reads the same chain at the same time (another member's gallery, twice).
        other = next(iter(users))
        together, *_ = await asyncio.gather(services.nft.plan(G, current),
                                            services.nft.gallery(G, other),
                                            services.nft.gallery(G, other))
        assert together.rpc_calls == alone.rpc_calls < chain.total_calls
    finally:
        await registry.close()


async def test_status_says_which_thing_failed(store, clock, chain, faulty):
    eoa = Account.create().address
    services, registry = await services_on(store, clock, {chain.chain_id: chain.url}, chain)
    no_aggregator, registry2 = await services_on(store, clock, {chain.chain_id: chain.url}, chain)
    registry2.aggregator = eoa
    broken, registry3 = await services_on(store, clock, {chain.chain_id: faulty.url}, chain)
    try:
        users = await link_many(services, 3)
        await services.db["nft_rules"].insert_one({
            "guild_id": G, "rule_id": 1, "role_id": ROLE_A, "chain_id": chain.chain_id,
            "contract": eoa, "standard": "erc721", "ranges": [], "min_count": 1,
            "max_count": None, "group": None, "created_by": 0, "created_ms": 0})
        current = {u: {ROLE_A} for u in users}
        plan = await services.nft.plan(G, current)
        assert plan.changes == [] and f"the contract {eoa} has no code" in plan.errors[0]
        await services.db["nft_rules"].delete_many({})
        await three_rules(services, chain)
        plan = await no_aggregator.nft.plan(G, current)
        assert plan.changes == [] and "no aggregator (Multicall3) contract" in plan.errors[0]
        faulty.fault("html", method="eth_call")
        plan = await broken.nft.plan(G, current)
        assert plan.changes == [] and "RPC endpoint of chain" in plan.errors[0]
        assert "not JSON" in plan.errors[0]
    finally:
        for r in (registry, registry2, registry3):
            await r.close()
