"""NFT role rules and guild sync against the JSON-RPC chain rig (economy level)."""

from __future__ import annotations

import pytest
from eth_account import Account

from economy.core.actor import Actor
from economy.core.errors import InvalidInput
from economy.nft.chain import ChainRegistry
from economy.nft.service import Holding, Rule, judge, parse_token_ids, role_statuses
from economy.services import build_services

pytestmark = pytest.mark.timeout(60)
G = 77
ROLE_A, ROLE_B, ROLE_C = 501, 502, 503


@pytest.fixture
async def nft(store, clock, chain):
    # A generous timeout: these tests are about what a plan changes, and a healthy call to the
    # in-memory EVM can take seconds on a loaded CI machine (a timed-out read plans nothing for
    # its wallets). Timeouts themselves are tested with their own registries below.
    registry = ChainRegistry(urls={chain.chain_id: chain.url}, aggregator=chain.aggregator,
                             timeout=15.0)
    services = build_services(store.db, clock, chains=registry)
    yield services
    await registry.close()


async def link_many(services, n: int, *, first_user: int = 1000) -> dict[int, str]:
    """n members with one random linked wallet each (seeded straight into the repo)."""
    users = {first_user + i: Account.create().address for i in range(n)}
    await services.wallets._repo.insert_many([
        {"guild_id": G, "user_id": u, "address": a, "linked_ms": 0} for u, a in users.items()])
    return users


def test_token_id_ranges_and_three_valued_rules():
    assert parse_token_ids("5, 1-3, 4, 10-12") == [[1, 5], [10, 12]]
    for bad in ("1-", "a", "5-1", "-3"):
        with pytest.raises(InvalidInput):
            parse_token_ids(bad)
    r = Rule(G, 1, ROLE_A, 1, "0x0", "erc721", (), 2, 3, None)
    assert [judge(c, False, r) for c in (1, 2, 3, 4)] == [False, True, True, False]
    assert judge(2, True, r) is None and judge(4, True, r) is False and judge(0, True, r) is None
    open_ended = Rule(G, 2, ROLE_A, 1, "0x0", "erc721", (), 1, None, None)
    assert judge(1, True, open_ended) is True
    # Role A: rule 1 alone, or (rule 2 and rule 3) together.
    rules = [Rule(G, 1, ROLE_A, 1, "0x0", "erc721", (), 5, None, None),
             Rule(G, 2, ROLE_A, 1, "0x0", "erc721", (), 1, None, "combo"),
             Rule(G, 3, ROLE_A, 1, "0x0", "erc1155", ((1, 1),), 1, None, "combo")]
    assert role_statuses(rules, {1: Holding(5), 2: Holding(0), 3: Holding(0)}) == {ROLE_A: True}
    assert role_statuses(rules, {1: Holding(0), 2: Holding(1), 3: Holding(1)}) == {ROLE_A: True}
    assert role_statuses(rules, {1: Holding(0), 2: Holding(1), 3: Holding(0)}) == {ROLE_A: False}
    assert role_statuses(rules, {1: Holding(0), 2: Holding(1), 3: Holding(0, True)}) == {ROLE_A: None}


async def test_rule_add_validates_contract_chain_and_ids(nft, chain):
    s = nft.nft
    eoa = Account.create().address
    with pytest.raises(InvalidInput, match="not a contract"):
        await s.add_rule(G, Actor(1, is_admin=True), chain_id=chain.chain_id, contract=eoa, standard="erc721", role_id=ROLE_A)
    with pytest.raises(InvalidInput, match="no RPC endpoint"):
        await s.add_rule(G, Actor(1, is_admin=True), chain_id=5, contract=chain.erc721, standard="erc721", role_id=ROLE_A)
    with pytest.raises(InvalidInput, match="need the token id"):
        await s.add_rule(G, Actor(1, is_admin=True), chain_id=chain.chain_id, contract=chain.erc1155, standard="erc1155",
                         role_id=ROLE_A)
    with pytest.raises(InvalidInput, match="at most 5,000"):
        await s.add_rule(G, Actor(1, is_admin=True), chain_id=chain.chain_id, contract=chain.erc721, standard="erc721",
                         role_id=ROLE_A, token_ids="1-6000")
    with pytest.raises(InvalidInput, match="valid wallet address"):
        await s.add_rule(G, Actor(1, is_admin=True), chain_id=chain.chain_id, contract="0x123", standard="erc721",
                         role_id=ROLE_A)
    chain.inject("error", method="eth_getCode")
    with pytest.raises(InvalidInput, match="couldn't reach"):
        await s.add_rule(G, Actor(1, is_admin=True), chain_id=chain.chain_id, contract=chain.erc721, standard="erc721",
                         role_id=ROLE_A)
    assert await s.rules(G) == []
    rule = await s.add_rule(G, Actor(1, is_admin=True), chain_id=chain.chain_id, contract=chain.erc721.lower(),
                            standard="erc721", role_id=ROLE_A, token_ids="1-10", max_count=3)
    assert rule.rule_id == 1 and rule.contract == chain.erc721 and rule.ranges == ((1, 10),)
    assert "ids 1-10" in rule.describe() and "1–3" in rule.describe()


async def three_rules(nft, chain):
    """Role A: any ERC-721; role B: ERC-721 ids 1-300 (rarity tier); role C: ERC-1155 id 7 ≥ 2."""
    c = chain.chain_id
    await nft.nft.add_rule(G, Actor(1, is_admin=True), chain_id=c, contract=chain.erc721, standard="erc721", role_id=ROLE_A)
    await nft.nft.add_rule(G, Actor(1, is_admin=True), chain_id=c, contract=chain.erc721, standard="erc721",
                           role_id=ROLE_B, token_ids="1-300")
    await nft.nft.add_rule(G, Actor(1, is_admin=True), chain_id=c, contract=chain.erc1155, standard="erc1155",
                           role_id=ROLE_C, token_ids="7", min_count=2)


def apply(current: dict[int, set[int]], changes) -> None:
    for ch in changes:
        (current[ch.user_id].add if ch.add else current[ch.user_id].discard)(ch.role_id)


async def test_a_sale_moves_exactly_the_affected_roles(nft, chain):
    users = await link_many(nft, 40)
    ids = list(users)
    chain.mint721([users[u] for u in ids[:20]], 1)
    chain.mint1155([users[u] for u in ids[:10]], 7, amount=2)
    await three_rules(nft, chain)
    current = {u: set() for u in ids}
    apply(current, (await nft.nft.plan(G, current)).changes)
    seller, buyer = ids[0], ids[30]
    chain.transfer721(users[seller], users[buyer], 1)
    chain.transfer1155(users[ids[1]], users[buyer], 7, 1)  # both now hold 1 < 2
    plan = await nft.nft.plan(G, current)
    assert {(c.user_id, c.role_id, c.add) for c in plan.changes} == {
        (seller, ROLE_A, False), (seller, ROLE_B, False), (buyer, ROLE_A, True),
        (buyer, ROLE_B, True), (ids[1], ROLE_C, False)}
    only_buyer = await nft.nft.plan(G, {buyer: current[buyer]}, only_user=buyer)
    assert only_buyer.wallets == 1 and len(only_buyer.changes) == 2


@pytest.mark.parametrize("mode", [
    pytest.param("timeout", marks=pytest.mark.slow),  # waits out the wall-clock RPC timeout
    "garbage", "error", "bad_result"])
async def test_rpc_failure_mid_sync_removes_nothing(store, clock, chain, mode):
    # Small batches keep every healthy call far below the 2 s timeout even on a busy machine.
    registry = ChainRegistry(urls={chain.chain_id: chain.url}, aggregator=chain.aggregator,
                             timeout=2.0, batch_size=100)
    nft = build_services(store.db, clock, chains=registry)
    users = await link_many(nft, 150)
    ids = list(users)
    await three_rules(nft, chain)
    current = {u: {ROLE_A, ROLE_B, ROLE_C} for u in ids}  # nobody holds anything on chain
    chain.inject(mode, times=1, delay=3.0)  # the first aggregate3 batch (100 wallets) fails
    plan = await nft.nft.plan(G, current)
    await registry.close()
    if mode == "timeout":
        # The first timeout stops the sync's reads: nothing else is read, nothing is removed.
        assert plan.changes == [] and plan.unknown == 450
        assert any("stopped after the first timeout" in e for e in plan.errors), plan.errors
        assert chain.calls["eth_call"] == 1
        return
    removed_a = {c.user_id for c in plan.changes if c.role_id == ROLE_A}
    # The failed batch's members keep role A; everybody else definitely holds nothing.
    assert len(removed_a) == 150 - 100 and plan.unknown >= 100 and plan.errors
    assert all(not c.add for c in plan.changes)
    # Role B (ownerOf of ids 1-300) and C were read fine: all removed.
    assert sum(c.role_id == ROLE_B for c in plan.changes) == 150


async def test_block_number_failure_changes_nothing(nft, chain):
    users = await link_many(nft, 10)
    await three_rules(nft, chain)
    chain.inject("garbage", method="eth_blockNumber")
    plan = await nft.nft.plan(G, {u: {ROLE_A} for u in users})
    assert plan.changes == [] and plan.unknown == 30 and "chain" in plan.errors[0]


async def test_periodic_claim_is_won_once_by_racing_processes(store, clock):
    import asyncio

    a, b = build_services(store.db, clock), build_services(store.db, clock)
    await a.nft._repo.record_sync(G, {"at_ms": 0})  # a manual sync left a summary, no due date
    wins = await asyncio.gather(*(s.nft.claim_periodic(G, 30) for s in (a, b, a, b)))
    assert sum(wins) == 1
    assert not await a.nft.claim_periodic(G, 30)
    clock.advance(minutes=31)
    wins = await asyncio.gather(*(s.nft.claim_periodic(G, 30) for s in (a, b)))
    assert sum(wins) == 1


async def test_transfer_logs_name_only_the_affected_members(nft, chain):
    users = await link_many(nft, 30)
    ids = list(users)
    chain.mint721([users[u] for u in ids[:10]], 1)
    chain.mint1155([users[ids[20]]], 7, amount=3)
    await three_rules(nft, chain)
    first = await nft.nft.scan_transfers(G)
    assert first.users == set() and first.ranges == 0  # the first scan only starts following
    assert await nft.nft.commit_scan(G, first)
    outsider = Account.create().address
    chain.transfer721(users[ids[0]], users[ids[25]], 1)
    chain.transfer1155(users[ids[20]], outsider, 7, 1)
    chain.calls.clear()
    scan = await nft.nft.scan_transfers(G)
    assert scan.users == {ids[0], ids[25], ids[20]} and scan.ranges == 1 and not scan.errors
    assert chain.calls == {"eth_chainId": 1, "eth_blockNumber": 1, "eth_getLogs": 1}
    assert await nft.nft.commit_scan(G, scan)
    assert not await nft.nft.commit_scan(G, scan)  # a second process with the same view loses
    again = await nft.nft.scan_transfers(G)
    assert again.users == set() and again.ranges == 0


async def test_transfer_scan_is_bounded_and_retries_a_failed_range(nft, chain):
    users = await link_many(nft, 4)
    ids = list(users)
    await three_rules(nft, chain)
    assert await nft.nft.commit_scan(G, await nft.nft.scan_transfers(G))
    chain.mint721([users[ids[0]]], 1)
    chain.mint721([users[ids[1]]], 2)
    chain.mint721([users[ids[2]]], 3)  # three new blocks
    chain.inject("garbage", method="eth_getLogs")
    failed = await nft.nft.scan_transfers(G, span=1, max_ranges=2)
    assert failed.users == set() and failed.errors and failed.ranges == 0
    await nft.nft.commit_scan(G, failed)
    part = await nft.nft.scan_transfers(G, span=1, max_ranges=2)
    assert part.users == {ids[0], ids[1]} and part.ranges == 2
    await nft.nft.commit_scan(G, part)
    rest = await nft.nft.scan_transfers(G, span=1, max_ranges=2)
    assert rest.users == {ids[2]} and rest.ranges == 1
