"""Reading token ownership from EVM chains, batched, behind a small interface.

Production talks JSON-RPC over HTTP through web3's AsyncHTTPProvider (tests run the same path
against a local eth-tester endpoint). Reads are batched: ERC-721 `balanceOf`/`ownerOf` go through
a Multicall3-style `aggregate3` (hundreds of calls in one `eth_call`), ERC-1155 balances through
the token's own `balanceOfBatch`. Every read is pinned to one block number.

A read that fails, times out, returns garbage, or hits an address without code is *unknown*
(None), never zero: callers must not take a role away on unknown.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, is_hex, keccak, to_checksum_address

from economy.errors import InvalidInput

#: The canonical Multicall3 deployment (same address on most EVM chains).
MULTICALL3_ADDRESS = "0xcA11bde05977b3631167028862bE2a173976CA11"

_AGGREGATE3 = function_signature_to_4byte_selector("aggregate3((address,bool,bytes)[])")
_BALANCE_OF = function_signature_to_4byte_selector("balanceOf(address)")
_OWNER_OF = function_signature_to_4byte_selector("ownerOf(uint256)")
_BALANCE_OF_BATCH = function_signature_to_4byte_selector("balanceOfBatch(address[],uint256[])")
_TOKEN_URI = function_signature_to_4byte_selector("tokenURI(uint256)")
_URI = function_signature_to_4byte_selector("uri(uint256)")

# Log topics of ownership changes: ERC-721 Transfer (from, to in topics 1-2) and ERC-1155
# TransferSingle/TransferBatch (operator, from, to in topics 1-3).
TRANSFER_TOPIC = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
TRANSFER_SINGLE_TOPIC = "0x" + keccak(
    text="TransferSingle(address,address,address,uint256,uint256)").hex()
TRANSFER_BATCH_TOPIC = "0x" + keccak(
    text="TransferBatch(address,address,address,uint256[],uint256[])").hex()

#: ownerOf reverted: the contract says the token has no owner (not minted or burnt).
NO_OWNER = ""


class ChainError(Exception):
    """An RPC request failed (timeout, HTTP error, JSON-RPC error, malformed answer)."""


class ChainReader(Protocol):
    """Batched ownership reads on one chain. Every result may be None (unknown)."""

    chain_id: int
    rpc_calls: int

    async def block_number(self) -> int: ...

    async def has_code(self, address: str) -> bool: ...

    async def erc721_balances(self, contract: str, owners: list[str], block: int
                              ) -> dict[str, int | None]: ...

    async def erc721_owners(self, contract: str, token_ids: list[int], block: int
                            ) -> dict[int, str | None]: ...

    async def erc1155_balances(self, contract: str, pairs: list[tuple[str, int]], block: int
                               ) -> dict[tuple[str, int], int | None]: ...

    async def transfer_parties(self, contracts: list[str], from_block: int, to_block: int
                               ) -> set[str]: ...

    async def token_uri(self, contract: str, standard: str, token_id: int) -> str | None: ...


class Web3ChainReader:
    """ChainReader over JSON-RPC HTTP (web3's AsyncHTTPProvider).

    Requests go straight to the provider (one HTTP request per RPC call; no web3 middleware
    that would ask for the chain id again and again). web3's own retries are off: a failed batch
    is unknown and the next sync tries again.
    """

    def __init__(self, chain_id: int, rpc_url: str, *, aggregator: str = MULTICALL3_ADDRESS,
                 timeout: float = 10.0, batch_size: int = 500) -> None:
        from aiohttp import ClientTimeout
        from web3 import AsyncHTTPProvider

        self.chain_id = chain_id
        self.rpc_url = rpc_url
        self.aggregator = to_checksum_address(aggregator)
        self.batch_size = batch_size
        self.rpc_calls = 0
        self._timeout = timeout
        self._provider = AsyncHTTPProvider(
            rpc_url, request_kwargs={"timeout": ClientTimeout(total=timeout)},
            exception_retry_configuration=None,
        )

    async def close(self) -> None:
        """Close the provider's HTTP session."""
        await self._provider.disconnect()

    async def request(self, method: str, params: list[Any]) -> Any:
        """One JSON-RPC request; its result, or ChainError."""
        self.rpc_calls += 1
        try:
            response = await asyncio.wait_for(
                self._provider.make_request(method, params),  # type: ignore[arg-type]
                self._timeout + 1,
            )
        except Exception as exc:  # timeouts, connection errors, non-JSON bodies
            raise ChainError(f"{method}: {type(exc).__name__}: {str(exc)[:200]}") from None
        if not isinstance(response, dict):
            raise ChainError(f"{method}: malformed response")
        if response.get("error"):
            error = response["error"]
            message = error.get("message") if isinstance(error, dict) else str(error)
            raise ChainError(f"{method}: {str(message)[:200]}")
        if "result" not in response:
            raise ChainError(f"{method}: response without a result")
        return response["result"]

    async def _hex_result(self, method: str, params: list[Any]) -> bytes:
        result = await self.request(method, params)
        if not isinstance(result, str) or not is_hex(result) or len(result) % 2:
            raise ChainError(f"{method}: result is not hex data")
        return bytes.fromhex(result[2:])

    async def block_number(self) -> int:
        """The latest block number (pin it for one sync)."""
        result = await self.request("eth_blockNumber", [])
        if isinstance(result, int):
            return result
        if not isinstance(result, str) or not is_hex(result):
            raise ChainError("eth_blockNumber: result is not a number")
        return int(result, 16)

    async def chain_id_of_node(self) -> int:
        """The chain id the node reports."""
        return int(await self.request("eth_chainId", []), 16)

    async def has_code(self, address: str) -> bool:
        """True when `address` holds contract code (ChainError when the node fails)."""
        return len(await self._hex_result("eth_getCode", [address, "latest"])) > 0

    async def _eth_call(self, to: str, data: bytes, block: int) -> bytes:
        return await self._hex_result("eth_call", [{"to": to, "data": "0x" + data.hex()}, hex(block)])

    async def aggregate(self, calls: list[tuple[str, bytes]], block: int
                        ) -> list[tuple[bool, bytes] | None]:
        """Run (target, calldata) reads through aggregate3 in batches; None where unknown."""
        out: list[tuple[bool, bytes] | None] = []
        for start in range(0, len(calls), self.batch_size):
            chunk = calls[start:start + self.batch_size]
            payload = _AGGREGATE3 + encode(
                ["(address,bool,bytes)[]"], [[(to, True, data) for to, data in chunk]]
            )
            try:
                raw = await self._eth_call(self.aggregator, payload, block)
                (results,) = decode(["(bool,bytes)[]"], raw)
                if len(results) != len(chunk):
                    raise ChainError("aggregate3: wrong number of results")
                out.extend((bool(ok), bytes(data)) for ok, data in results)
            except (ChainError, Exception):  # a failed or undecodable batch is unknown
                out.extend([None] * len(chunk))
        return out

    async def erc721_balances(self, contract: str, owners: list[str], block: int
                              ) -> dict[str, int | None]:
        """balanceOf(owner) for each owner at `block`."""
        calls = [(contract, _BALANCE_OF + encode(["address"], [owner])) for owner in owners]
        results = await self.aggregate(calls, block)
        return {owner: _uint(result) for owner, result in zip(owners, results, strict=True)}

    async def erc721_owners(self, contract: str, token_ids: list[int], block: int
                            ) -> dict[int, str | None]:
        """ownerOf(id) for each id: an address, NO_OWNER (the contract reverted), or None."""
        calls = [(contract, _OWNER_OF + encode(["uint256"], [tid])) for tid in token_ids]
        results = await self.aggregate(calls, block)
        owners: dict[int, str | None] = {}
        for tid, result in zip(token_ids, results, strict=True):
            if result is None:
                owners[tid] = None
            elif not result[0]:
                owners[tid] = NO_OWNER  # ERC-721: ownerOf throws for tokens nobody owns
            elif len(result[1]) >= 32:
                owners[tid] = to_checksum_address(result[1][12:32])
            else:
                owners[tid] = None  # no code at the address: empty answer
        return owners

    async def erc1155_balances(self, contract: str, pairs: list[tuple[str, int]], block: int
                               ) -> dict[tuple[str, int], int | None]:
        """balanceOf(owner, id) for each pair, through balanceOfBatch in batches."""
        out: dict[tuple[str, int], int | None] = {}
        for start in range(0, len(pairs), self.batch_size * 2):
            chunk = pairs[start:start + self.batch_size * 2]
            payload = _BALANCE_OF_BATCH + encode(
                ["address[]", "uint256[]"], [[a for a, _ in chunk], [i for _, i in chunk]]
            )
            values: list[int | None] = [None] * len(chunk)
            try:
                raw = await self._eth_call(contract, payload, block)
                (decoded,) = decode(["uint256[]"], raw)
                if len(decoded) == len(chunk):
                    values = [int(v) for v in decoded]
            except (ChainError, Exception):
                pass  # unknown
            out.update(zip(chunk, values, strict=True))
        return out


    async def transfer_parties(self, contracts: list[str], from_block: int, to_block: int
                               ) -> set[str]:
        """Addresses that sent or received tokens of `contracts` in the block range (one
        eth_getLogs); ChainError when the node fails or answers something else than logs."""
        result = await self.request("eth_getLogs", [{
            "fromBlock": hex(from_block), "toBlock": hex(to_block), "address": contracts,
            "topics": [[TRANSFER_TOPIC, TRANSFER_SINGLE_TOPIC, TRANSFER_BATCH_TOPIC]],
        }])
        if not isinstance(result, list):
            raise ChainError("eth_getLogs: result is not a list")
        parties: set[str] = set()
        for entry in result:
            topics = entry.get("topics") if isinstance(entry, dict) else None
            if not isinstance(topics, list) or not topics:
                raise ChainError("eth_getLogs: malformed log")
            indexed = topics[1:3] if topics[0] == TRANSFER_TOPIC else topics[2:4]
            for topic in indexed:
                if not isinstance(topic, str) or not is_hex(topic) or len(topic) != 66:
                    raise ChainError("eth_getLogs: malformed topic")
                parties.add(to_checksum_address("0x" + topic[-40:]))
        return parties


    async def token_uri(self, contract: str, standard: str, token_id: int) -> str | None:
        """The metadata URI of a token (ERC-721 tokenURI, ERC-1155 uri with `{id}` filled in);
        None when the contract does not answer one."""
        selector = _URI if standard == "erc1155" else _TOKEN_URI
        try:
            raw = await self._eth_call(contract, selector + encode(["uint256"], [token_id]),
                                       await self.block_number())
            (uri,) = decode(["string"], raw)
        except Exception:  # no answer, a revert, or not a string: no metadata
            return None
        if standard == "erc1155":
            uri = uri.replace("{id}", f"{token_id:064x}")
        return uri[:2000] or None


def _uint(result: tuple[bool, bytes] | None) -> int | None:
    if result is None or not result[0] or len(result[1]) < 32:
        return None
    return int.from_bytes(result[1][:32], "big")


@dataclass
class ChainRegistry:
    """The chains this bot can read (RPC URL per chain id, from process settings)."""

    urls: dict[int, str] = field(default_factory=dict)
    aggregator: str = MULTICALL3_ADDRESS
    timeout: float = 10.0
    batch_size: int = 500
    _readers: dict[int, ChainReader] = field(default_factory=dict)

    def reader(self, chain_id: int) -> ChainReader:
        """The reader of a configured chain; InvalidInput when the bot has no RPC for it."""
        if chain_id not in self._readers:
            if chain_id not in self.urls:
                known = ", ".join(str(c) for c in sorted(self.urls)) or "none"
                raise InvalidInput(
                    f"This bot has no RPC endpoint for chain {chain_id} (configured: {known})."
                )
            self._readers[chain_id] = Web3ChainReader(
                chain_id, self.urls[chain_id], aggregator=self.aggregator, timeout=self.timeout,
                batch_size=self.batch_size,
            )
        return self._readers[chain_id]

    @property
    def default_chain_id(self) -> int:
        """The chain named in wallet-link messages (the first configured, else Ethereum)."""
        return next(iter(self.urls), 1)

    def rpc_calls(self) -> int:
        """RPC requests made so far over every chain."""
        return sum(r.rpc_calls for r in self._readers.values())

    async def close(self) -> None:
        """Close every reader's HTTP session."""
        for reader in self._readers.values():
            close = getattr(reader, "close", None)
            if close is not None:
                await close()
        self._readers.clear()
