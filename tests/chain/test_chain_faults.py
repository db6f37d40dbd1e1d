"""Malformed answers, wrong chains and hanging nodes, through a faulty proxy in front of the rig.

Every malformed answer must be a ChainError (never a ValueError escaping the sync), a node of
another chain must be recognised, and a node that hangs costs one deadline, not one timeout per
batch.
"""

from __future__ import annotations

import time

import pytest
from eth_account import Account

from economy.nft.chain import ChainError, ChainMismatch, ChainRegistry, Deadline, Web3ChainReader

pytestmark = pytest.mark.timeout(60)

MALFORMED = ["empty", "nothex", "null", "error", "html", "wrong_id"]


def reader_for(url: str, chain, **options) -> Web3ChainReader:
    return Web3ChainReader(chain.chain_id, url, aggregator=chain.aggregator,
                           timeout=options.pop("timeout", 5.0), **options)


@pytest.mark.parametrize("mode", MALFORMED)
async def test_every_malformed_answer_is_a_chain_error(chain, faulty, mode):
    reader = reader_for(faulty.url, chain)
    try:
        faulty.fault(mode, method="eth_blockNumber", times=1)
        with pytest.raises(ChainError):
            await reader.block_number()
        faulty.fault(mode, method="eth_chainId", times=1)
        with pytest.raises(ChainError):
            await reader.chain_id_of_node()
        faulty.fault(mode, method="eth_getLogs", times=1)
        with pytest.raises(ChainError):
            await reader.transfer_parties([chain.erc721], 0, 1)
        if mode != "empty":  # "0x" is valid (empty) DATA: an address without code
            faulty.fault(mode, method="eth_getCode", times=1)
            with pytest.raises(ChainError):
                await reader.has_code(chain.erc721)
        # The faults are used up: the same reader reads fine again.
        assert await reader.block_number() >= 0 and await reader.has_code(chain.erc721)
    finally:
        await reader.close()


@pytest.mark.parametrize("mode", [*MALFORMED, "short_abi"])
async def test_a_malformed_batch_is_unknown_with_its_reason(chain, faulty, mode):
    a, b = (Account.create().address for _ in range(2))
    chain.mint721([a], 1)
    reader = reader_for(faulty.url, chain)
    try:
        block = await reader.block_number()
        faulty.fault(mode, method="eth_call", times=2)
        assert await reader.erc721_balances(chain.erc721, [a, b], block) == {a: None, b: None}
        assert await reader.erc1155_balances(chain.erc1155, [(a, 7)], block) == {(a, 7): None}
        expected = "no aggregator" if mode == "empty" else "failed"
        assert expected in reader.problems[chain.erc721], reader.problems
        assert chain.erc1155 in reader.problems
        assert await reader.erc721_balances(chain.erc721, [a, b], block) == {a: 1, b: 0}
    finally:
        await reader.close()


async def test_no_code_and_missing_aggregator_are_told_apart(chain):
    (a,) = [Account.create().address]
    eoa = Account.create().address
    reader = reader_for(chain.url, chain)
    no_aggregator = Web3ChainReader(chain.chain_id, chain.url, aggregator=eoa)
    try:
        block = await reader.block_number()
        assert await reader.erc721_balances(eoa, [a], block) == {a: None}
        assert await reader.erc721_owners(eoa, [1], block) == {1: None}
        assert await reader.erc1155_balances(eoa, [(a, 1)], block) == {(a, 1): None}
        assert f"the contract {eoa} has no code" in reader.problems[eoa]
        assert await no_aggregator.erc721_balances(chain.erc721, [a], block) == {a: None}
        assert f"no aggregator (Multicall3) contract at {eoa}" in \
            no_aggregator.problems[chain.erc721]
    finally:
        await reader.close()
        await no_aggregator.close()


async def test_a_node_of_another_chain_is_recognised(chain, faulty):
    registry = ChainRegistry(urls={1: chain.url, chain.chain_id: faulty.url},
                             aggregator=chain.aggregator)
    try:
        checked = await registry.check_all()
        assert isinstance(checked[1], ChainMismatch) and checked[1].served == chain.chain_id
        assert checked[chain.chain_id] is None
        assert registry.mismatched == {1: chain.chain_id}
        assert f"configured for chain 1 serves chain {chain.chain_id}" in str(checked[1])
        faulty.fault("chain_id", value=5)  # the node behind a URL changed chains
        with pytest.raises(ChainMismatch):
            await registry.verify(registry.for_sync(chain.chain_id, registry.deadline()))
        assert registry.mismatched[chain.chain_id] == 5
    finally:
        await registry.close()


@pytest.mark.slow  # waits out a wall-clock deadline
async def test_a_hanging_node_costs_one_deadline_then_nothing_is_sent(chain, faulty):
    reader = reader_for(faulty.url, chain, timeout=30.0, batch_size=10)
    owners = [Account.create().address for _ in range(200)]
    try:
        block = await reader.block_number()
        faulty.fault("hang", method="eth_call")
        deadline = Deadline(1.5)
        sync = reader.for_sync(deadline)
        started = time.monotonic()
        balances = await sync.erc721_balances(chain.erc721, owners, block)
        pairs = await sync.erc1155_balances(chain.erc1155, [(o, 7) for o in owners], block)
        elapsed = time.monotonic() - started
        assert set(balances.values()) == {None} and set(pairs.values()) == {None}
        assert faulty.calls["eth_call"] == 1 and sync.rpc_calls == 1  # 29 batches never sent
        assert sync.stopped and "first timeout" in sync.stopped
        assert elapsed < 1.5 + 8.0  # one deadline (generous slack), not 20 batches x 30 s
    finally:
        await reader.close()
