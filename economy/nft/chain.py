"""Reading token ownership from EVM chains, batched, behind a small interface.

Production talks JSON-RPC over HTTP (economy.nft.jsonrpc; tests run the same path against a local
eth-tester endpoint). Reads are batched: ERC-721 `balanceOf`/`ownerOf` go through a
Multicall3-style `aggregate3` (hundreds of calls in one `eth_call`), ERC-1155 balances through
the token's own `balanceOfBatch`. Every read is pinned to one block number.

A read that fails, times out, returns garbage, or hits an address without code is *unknown*
(None), never zero: callers must not take a role away on unknown. Why a contract's reads were
unknown is kept in `problems` (no code, no aggregator, or the network failed).

One sync reads through its own reader (`ChainRegistry.for_sync`): its own RPC counter and one
Deadline for all its requests, over the chain's shared HTTP session.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from eth_utils import function_signature_to_4byte_selector, is_hex, keccak, to_checksum_address

from economy.core.errors import InvalidInput
from economy.nft.jsonrpc import (
    ChainError,
    ChainMismatch,
    ChainTimeout,
    Deadline,
    JsonRpcHttp,
    parse_data,
    parse_quantity,
)

__all__ = ["NO_OWNER", "ChainError", "ChainMismatch", "ChainReader", "ChainRegistry",
           "ChainTimeout", "Deadline", "Web3ChainReader"]



def encode(types: list[str], args: list[Any]) -> bytes:
    """ABI-encode `args` (eth_abi, imported at the first chain read: its grammar parser
    costs ~0.2 s of start-up that a bot without NFT roles never needs)."""
    from eth_abi import encode as abi_encode

    return abi_encode(types, args)


def decode(types: list[str], data: bytes) -> tuple[Any, ...]:
    """ABI-decode `data` (eth_abi, imported at the first chain read, as `encode`)."""
    from eth_abi import decode as abi_decode

    return abi_decode(types, data)


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


class ChainReader(Protocol):
    """Batched ownership reads on one chain. Every result may be None (unknown)."""

    chain_id: int
    rpc_calls: int
    problems: dict[str, str]
    stopped: str | None

    async def block_number(self) -> int: ...

    async def verify_chain(self) -> None: ...

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
    """ChainReader over JSON-RPC HTTP.

    One HTTP request per RPC call; no retries: a failed batch is unknown and the next sync tries
    again. With a `deadline`, every wait is capped by what is left of it and the first timeout
    stops all further requests of this reader (they fail at once; `stopped` says why).
    """

    def __init__(self, chain_id: int, rpc_url: str, *, aggregator: str = MULTICALL3_ADDRESS,
                 timeout: float = 10.0, batch_size: int = 500,
                 transport: JsonRpcHttp | None = None, deadline: Deadline | None = None) -> None:
        self.chain_id = chain_id
        self.rpc_url = rpc_url
        self.aggregator = to_checksum_address(aggregator)
        self.batch_size = batch_size
        self.rpc_calls = 0
        self.deadline = deadline
        #: Why this reader sends no more requests (its first timeout, or the deadline passed).
        self.stopped: str | None = None
        #: contract -> why some of its reads are unknown (the first reason seen).
        self.problems: dict[str, str] = {}
        self._timeout = timeout
        self._own_transport = transport is None
        self.transport = transport or JsonRpcHttp(rpc_url)

    def for_sync(self, deadline: Deadline) -> Web3ChainReader:
        """A reader for one sync: same chain and HTTP session, its own counter and deadline."""
        return Web3ChainReader(self.chain_id, self.rpc_url, aggregator=self.aggregator,
                               timeout=self._timeout, batch_size=self.batch_size,
                               transport=self.transport, deadline=deadline)

    async def close(self) -> None:
        """Close the HTTP session (only a reader that opened its own).

        Raises: nothing expected.
        """
        if self._own_transport:
            await self.transport.close()

    async def request(self, method: str, params: list[Any]) -> Any:
        """One JSON-RPC request; its result, or ChainError (ChainTimeout when out of time).

        Raises: ChainTimeout.
        """
        if self.stopped:
            raise ChainTimeout(f"{method}: not sent ({self.stopped})")
        timeout = self._timeout
        if self.deadline is not None:
            timeout = min(timeout, self.deadline.remaining())
            if timeout <= 0:
                self.stopped = f"the sync's {self.deadline.seconds:g} s deadline passed"
                raise ChainTimeout(f"{method}: not sent ({self.stopped})")
        self.rpc_calls += 1
        try:
            return await self.transport.call(method, params, timeout=timeout)
        except ChainTimeout as exc:
            if self.deadline is not None:  # a shared reader (no deadline) keeps going
                self.stopped = f"stopped after the first timeout ({exc})"
            raise

    async def block_number(self) -> int:
        """The latest block number (pin it for one sync).

        Raises: ChainError, ChainTimeout.
        """
        return parse_quantity("eth_blockNumber", await self.request("eth_blockNumber", []))

    async def chain_id_of_node(self) -> int:
        """The chain id the node reports.

        Raises: ChainError, ChainTimeout.
        """
        return parse_quantity("eth_chainId", await self.request("eth_chainId", []))

    async def verify_chain(self) -> None:
        """ChainMismatch unless the node serves the configured chain (ChainError on failure).

        Raises: ChainError, ChainMismatch, ChainTimeout.
        """
        served = await self.chain_id_of_node()
        if served != self.chain_id:
            raise ChainMismatch(self.chain_id, served)

    async def has_code(self, address: str) -> bool:
        """True when `address` holds contract code (ChainError when the node fails).

        Raises: ChainError, ChainTimeout.
        """
        return len(await self._data("eth_getCode", [address, "latest"])) > 0

    async def _data(self, method: str, params: list[Any]) -> bytes:
        return parse_data(method, await self.request(method, params))

    async def _eth_call(self, to: str, data: bytes, block: int) -> bytes:
        return await self._data("eth_call", [{"to": to, "data": "0x" + data.hex()}, hex(block)])

    def _note(self, contract: str, reason: str) -> None:
        self.problems.setdefault(contract, reason)

    def _network(self, exc: ChainError) -> str:
        return f"the RPC endpoint of chain {self.chain_id} failed: {exc}"

    def _no_code(self, contract: str, block: int) -> str:
        return f"the contract {contract} has no code on chain {self.chain_id} at block {block}"

    async def aggregate(self, calls: list[tuple[str, bytes]], block: int
                        ) -> list[tuple[bool, bytes] | None]:
        """Run (target, calldata) reads through aggregate3 in batches; None where unknown.

        Raises: nothing expected.
        """
        out: list[tuple[bool, bytes] | None] = []
        for start in range(0, len(calls), self.batch_size):
            chunk = calls[start:start + self.batch_size]
            payload = _AGGREGATE3 + encode(
                ["(address,bool,bytes)[]"], [[(to, True, data) for to, data in chunk]]
            )
            try:
                raw = await self._eth_call(self.aggregator, payload, block)
            except ChainError as exc:
                for to in {to for to, _ in chunk}:
                    self._note(to, self._network(exc))
                out.extend([None] * len(chunk))
                continue
            if not raw:  # a call to an address without code "succeeds" with no data
                for to in {to for to, _ in chunk}:
                    self._note(to, f"no aggregator (Multicall3) contract at {self.aggregator} on "
                                   f"chain {self.chain_id}: check MULTICALL3_ADDRESS")
                out.extend([None] * len(chunk))
                continue
            try:
                (results,) = decode(["(bool,bytes)[]"], raw)
                if len(results) != len(chunk):
                    raise ValueError(f"{len(results)} results for {len(chunk)} calls")
            except Exception as exc:  # eth_abi raises several types on malformed data
                for to in {to for to, _ in chunk}:
                    self._note(to, self._network(ChainError(
                        f"aggregate3: malformed answer ({type(exc).__name__})")))
                out.extend([None] * len(chunk))
                continue
            out.extend((bool(ok), bytes(data)) for ok, data in results)
        return out

    async def erc721_balances(self, contract: str, owners: list[str], block: int
                              ) -> dict[str, int | None]:
        """balanceOf(owner) for each owner at `block`.

        Raises: nothing expected.
        """
        calls = [(contract, _BALANCE_OF + encode(["address"], [owner])) for owner in owners]
        results = await self.aggregate(calls, block)
        out: dict[str, int | None] = {}
        for owner, result in zip(owners, results, strict=True):
            word = self._word(contract, result, block, "balanceOf")
            out[owner] = None if word is None else int.from_bytes(word, "big")
        return out

    def _word(self, contract: str, result: tuple[bool, bytes] | None, block: int,
              what: str) -> bytes | None:
        """The first 32 bytes of a successful answer, else None (the reason noted)."""
        if result is None:
            return None  # the batch failed; its reason is noted already
        ok, data = result
        if ok and len(data) >= 32:
            return data[:32]
        if ok and not data:
            self._note(contract, self._no_code(contract, block))
        elif ok:
            self._note(contract, f"the contract {contract} answered {what} with malformed data")
        else:
            self._note(contract, f"the contract {contract} rejected {what} (is it the right "
                                 "standard?)")
        return None

    async def erc721_owners(self, contract: str, token_ids: list[int], block: int
                            ) -> dict[int, str | None]:
        """ownerOf(id) for each id: an address, NO_OWNER (the contract reverted), or None.

        Raises: nothing expected.
        """
        calls = [(contract, _OWNER_OF + encode(["uint256"], [tid])) for tid in token_ids]
        results = await self.aggregate(calls, block)
        owners: dict[int, str | None] = {}
        for tid, result in zip(token_ids, results, strict=True):
            if result is not None and not result[0]:
                owners[tid] = NO_OWNER  # ERC-721: ownerOf throws for tokens nobody owns
                continue
            word = self._word(contract, result, block, "ownerOf")
            # None: unknown (no code, malformed, or the batch failed)
            owners[tid] = None if word is None else to_checksum_address(word[12:])
        return owners

    async def erc1155_balances(self, contract: str, pairs: list[tuple[str, int]], block: int
                               ) -> dict[tuple[str, int], int | None]:
        """balanceOf(owner, id) for each pair, through balanceOfBatch in batches.

        Raises: nothing expected.
        """
        out: dict[tuple[str, int], int | None] = {}
        for start in range(0, len(pairs), self.batch_size * 2):
            chunk = pairs[start:start + self.batch_size * 2]
            payload = _BALANCE_OF_BATCH + encode(
                ["address[]", "uint256[]"], [[a for a, _ in chunk], [i for _, i in chunk]]
            )
            values: list[int | None] = [None] * len(chunk)
            try:
                raw = await self._eth_call(contract, payload, block)
                if not raw:
                    self._note(contract, self._no_code(contract, block))
                else:
                    (decoded,) = decode(["uint256[]"], raw)
                    if len(decoded) != len(chunk):
                        raise ValueError(f"{len(decoded)} balances for {len(chunk)} pairs")
                    values = [int(v) for v in decoded]
            except ChainError as exc:
                self._note(contract, self._network(exc))
            except Exception as exc:  # eth_abi raises several types on malformed data
                self._note(contract, self._network(ChainError(
                    f"balanceOfBatch: malformed answer ({type(exc).__name__})")))
            out.update(zip(chunk, values, strict=True))
        return out

    async def transfer_parties(self, contracts: list[str], from_block: int, to_block: int
                               ) -> set[str]:
        """Addresses that sent or received tokens of `contracts` in the block range (one
        eth_getLogs); ChainError when the node fails or answers something else than logs.

        Raises: ChainError, ChainTimeout.
        """
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
        None when the contract does not answer one.

        Raises: ChainError, ChainTimeout.
        """
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


@dataclass
class ChainRegistry:
    """The chains this bot can read (RPC URL per chain id, from process settings)."""

    urls: dict[int, str] = field(default_factory=dict)
    aggregator: str = MULTICALL3_ADDRESS
    timeout: float = 10.0
    batch_size: int = 500
    #: One budget for all network waits of one sync (CHAIN_SYNC_DEADLINE_SECONDS).
    sync_deadline: float = 20.0
    monotonic: Callable[[], float] = time.monotonic
    #: Configured chain id -> the chain its node served when last asked (mismatches only).
    mismatched: dict[int, int] = field(default_factory=dict)
    _readers: dict[int, Web3ChainReader] = field(default_factory=dict)

    def reader(self, chain_id: int) -> Web3ChainReader:
        """The shared reader of a configured chain; InvalidInput when the bot has no RPC for it."""
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

    def deadline(self, seconds: float | None = None) -> Deadline:
        """A fresh deadline for one sync (the configured one unless `seconds` is given)."""
        return Deadline(self.sync_deadline if seconds is None else seconds,
                        monotonic=self.monotonic)

    def for_sync(self, chain_id: int, deadline: Deadline) -> Web3ChainReader:
        """A reader for one sync of a configured chain: its own RPC counter, `deadline`."""
        return self.reader(chain_id).for_sync(deadline)

    async def verify(self, reader: ChainReader) -> None:
        """Check the node serves the reader's chain (ChainMismatch / ChainError); remembers it.

        Raises: ChainMismatch.
        """
        try:
            await reader.verify_chain()
        except ChainMismatch as exc:
            self.mismatched[reader.chain_id] = exc.served
            raise
        self.mismatched.pop(reader.chain_id, None)

    async def check_all(self) -> dict[int, ChainError | None]:
        """Ask every configured node its chain id (start-up): chain -> the error, or None.

        Raises: InvalidInput.
        """
        out: dict[int, ChainError | None] = {}
        for chain_id in self.urls:
            try:
                await self.verify(self.for_sync(chain_id, self.deadline(self.timeout)))
                out[chain_id] = None
            except ChainError as exc:
                out[chain_id] = exc
        return out

    @property
    def default_chain_id(self) -> int:
        """The chain named in wallet-link messages (the first configured, else Ethereum)."""
        return next(iter(self.urls), 1)

    async def close(self) -> None:
        """Close every reader's HTTP session.

        Raises: nothing expected.
        """
        for reader in self._readers.values():
            await reader.close()
        self._readers.clear()
