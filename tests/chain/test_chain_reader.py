"""economy.nft.chain over real JSON-RPC HTTP (web3 AsyncHTTPProvider) against the eth-tester rig."""

from __future__ import annotations

import time

import pytest
from eth_account import Account

from economy.core.errors import InvalidInput
from economy.nft.chain import NO_OWNER, ChainError, ChainRegistry, Web3ChainReader

pytestmark = pytest.mark.timeout(60)


def addresses(n: int) -> list[str]:
    return [Account.create().address for _ in range(n)]


@pytest.fixture
async def reader(chain):
    r = Web3ChainReader(chain.chain_id, chain.url, aggregator=chain.aggregator, timeout=10)
    yield r
    await r.close()


@pytest.mark.slow
async def test_balances_owners_and_1155_in_few_calls(chain, reader):
    holders = addresses(1001)
    chain.mint721(holders[:700], 1)
    chain.mint1155(holders[:300], 7, amount=3)
    block = await reader.block_number()
    chain.calls.clear()
    balances = await reader.erc721_balances(chain.erc721, holders, block)
    assert sum(v for v in balances.values()) == 700 and set(balances.values()) == {0, 1}
    assert chain.calls["eth_call"] == 3  # 1,001 reads in batches of 500
    owners = await reader.erc721_owners(chain.erc721, [1, 700, 701], block)
    assert owners == {1: holders[0], 700: holders[699], 701: NO_OWNER}
    pairs = [(h, 7) for h in holders]
    ones = await reader.erc1155_balances(chain.erc1155, pairs, block)
    assert sum(ones.values()) == 900 and ones[(holders[0], 7)] == 3  # 1,001 pairs: 2 calls
    assert chain.calls["eth_call"] == 3 + 1 + 2


async def test_reads_are_pinned_to_a_block(chain, reader):
    a, b = addresses(2)
    chain.mint721([a], 1)
    block = await reader.block_number()
    chain.transfer721(a, b, 1)
    before = await reader.erc721_balances(chain.erc721, [a, b], block)
    after = await reader.erc721_balances(chain.erc721, [a, b], await reader.block_number())
    assert before == {a: 1, b: 0} and after == {a: 0, b: 1}


async def test_no_code_timeouts_and_garbage_are_unknown_not_zero(chain):
    reader = Web3ChainReader(chain.chain_id, chain.url, aggregator=chain.aggregator, timeout=0.5)
    (a,) = addresses(1)
    block = await reader.block_number()
    eoa = addresses(1)[0]
    assert await reader.erc721_balances(eoa, [a], block) == {a: None}
    assert not await reader.has_code(eoa) and await reader.has_code(chain.erc721)
    for mode in ("garbage", "bad_result", "error", "http500", "timeout"):
        chain.inject(mode, delay=5.0)
        started = time.monotonic()
        assert await reader.erc721_balances(chain.erc721, [a], block) == {a: None}, mode
        assert await reader.erc1155_balances(chain.erc1155, [(a, 1)], block) == {(a, 1): 0}  # the fault was used up
        assert time.monotonic() - started < 4.0  # the 0.5 s timeout, not the 5 s stall
    chain.inject("garbage", method="eth_blockNumber")
    with pytest.raises(ChainError):
        await reader.block_number()
    await reader.close()


async def test_registry_refuses_unconfigured_chains(chain):
    registry = ChainRegistry(urls={chain.chain_id: chain.url}, aggregator=chain.aggregator)
    assert registry.default_chain_id == chain.chain_id
    with pytest.raises(InvalidInput, match="no RPC endpoint for chain 5"):
        registry.reader(5)
    await registry.close()
