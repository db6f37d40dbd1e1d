"""The chain test rig: eth-tester (py-evm) served over JSON-RPC HTTP on 127.0.0.1.

The bot reads the chain through web3's AsyncHTTPProvider in production, so tests must too: this
rig runs an in-memory EVM behind a tiny aiohttp JSON-RPC endpoint in its own thread (independent
of the tests' event loops, so one rig serves a whole session). It deploys the contracts compiled
into fixtures/contracts.json, counts every RPC request by method, and can make the next requests
time out, return garbage or fail, to prove a hiccuping node never costs a member a role.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from eth_abi import encode
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.exceptions import TransactionFailed
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "contracts.json").read_text())
GAS = 25_000_000


def selector(signature: str) -> bytes:
    """The 4-byte function selector of e.g. `balanceOf(address)`."""
    return function_signature_to_4byte_selector(signature)


@dataclass
class Fault:
    """What the next matching requests get instead of a real answer."""

    mode: str  # "timeout" | "garbage" | "error" | "http500" | "bad_result"
    method: str | None
    times: int
    delay: float = 5.0


class ChainRig:
    """An EVM with ERC-721, ERC-1155 and a Multicall3-style aggregator, reachable over HTTP."""

    def __init__(self) -> None:
        self.tester = EthereumTester(PyEVMBackend())
        self.accounts = self.tester.get_accounts()
        self.deployer = self.accounts[0]
        self.lock = threading.Lock()  # the EVM is used from the server thread and from tests
        self.calls: Counter[str] = Counter()
        self.faults: list[Fault] = []
        self.chain_id = int(self.tester.backend.chain.chain_id)
        self.aggregator = self.deploy("aggregator")
        self.erc721 = self.deploy("erc721")
        self.erc1155 = self.deploy("erc1155")
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # -- contracts --------------------------------------------------------------------------

    def deploy(self, name: str) -> str:
        """Deploy a fixture contract; returns its checksummed address."""
        with self.lock:
            tx = self.tester.send_transaction({
                "from": self.deployer, "data": FIXTURES[name]["bytecode"], "gas": 3_000_000,
            })
            receipt = self.tester.get_transaction_receipt(tx)
        return to_checksum_address(receipt["contract_address"])

    def transact(self, to: str, signature: str, types: list[str], args: list[Any],
                 *, sender: str | None = None) -> None:
        """Send one transaction calling `signature` on `to` (raises if it reverts)."""
        data = selector(signature) + encode(types, args)
        with self.lock:
            self.tester.send_transaction({
                "from": sender or self.deployer, "to": to, "data": "0x" + data.hex(), "gas": GAS,
                # Big batch mints push the base fee up block after block; always pay enough.
                "max_fee_per_gas": 10**13, "max_priority_fee_per_gas": 1,
            })

    def mint721(self, receivers: list[str], first_id: int, contract: str | None = None) -> None:
        """Mint token ids first_id, first_id+1, ... to `receivers` (batches of 500)."""
        for start in range(0, len(receivers), 500):
            chunk = receivers[start:start + 500]
            self.transact(contract or self.erc721, "mintMany(address[],uint256)",
                          ["address[]", "uint256"], [chunk, first_id + start])

    def set_token_uri(self, token_id: int, uri: str) -> None:
        """Set an ERC-721 token's metadata URI."""
        self.transact(self.erc721, "setTokenURI(uint256,string)", ["uint256", "string"],
                      [token_id, uri])

    def set_1155_uri(self, uri: str) -> None:
        """Set the ERC-1155 metadata URI template (`{id}` is replaced by clients)."""
        self.transact(self.erc1155, "setURI(string)", ["string"], [uri])

    def transfer721(self, sender: str, receiver: str, token_id: int) -> None:
        """Move an ERC-721 token (the minter may move any token)."""
        self.transact(self.erc721, "transferFrom(address,address,uint256)",
                      ["address", "address", "uint256"], [sender, receiver, token_id])

    def mint1155(self, receivers: list[str], token_id: int, amount: int = 1) -> None:
        """Give `amount` of ERC-1155 `token_id` to each receiver (batches of 500)."""
        for start in range(0, len(receivers), 500):
            self.transact(self.erc1155, "mintMany(address[],uint256,uint256)",
                          ["address[]", "uint256", "uint256"],
                          [receivers[start:start + 500], token_id, amount])

    def transfer1155(self, sender: str, receiver: str, token_id: int, amount: int) -> None:
        """Move ERC-1155 tokens (the minter may move anyone's)."""
        self.transact(self.erc1155, "safeTransferFrom(address,address,uint256,uint256,bytes)",
                      ["address", "address", "uint256", "uint256", "bytes"],
                      [sender, receiver, token_id, amount, b""])

    def snapshot(self) -> Any:
        """Remember the chain state (cheap: ~4 ms to revert)."""
        with self.lock:
            return self.tester.take_snapshot()

    def revert(self, snapshot: Any) -> None:
        """Go back to a snapshot and forget counters and injected faults."""
        with self.lock:
            self.tester.revert_to_snapshot(snapshot)
        self.calls.clear()
        self.faults.clear()

    # -- faults -----------------------------------------------------------------------------

    def inject(self, mode: str, *, method: str | None = "eth_call", times: int = 1,
               delay: float = 5.0) -> None:
        """Make the next `times` requests for `method` (None: any) fail in `mode`."""
        self.faults.append(Fault(mode, method, times, delay))

    def _take_fault(self, method: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.method in (None, method):
                fault.times -= 1
                return fault
        return None

    @property
    def total_calls(self) -> int:
        """Every JSON-RPC request served (faulty ones included)."""
        return sum(self.calls.values())

    # -- JSON-RPC ---------------------------------------------------------------------------

    def _dispatch(self, method: str, params: list[Any]) -> Any:
        with self.lock:
            if method == "eth_chainId":
                return hex(self.chain_id)
            if method == "net_version":
                return str(self.chain_id)
            if method == "eth_blockNumber":
                return hex(self.tester.get_block_by_number("latest")["number"])
            if method == "eth_getCode":
                return self.tester.get_code(params[0], _block(params[1]))
            if method == "eth_call":
                tx = dict(params[0])
                tx.setdefault("from", self.deployer)
                tx["gas"] = int(tx["gas"], 16) if "gas" in tx else GAS
                tx = {k: v for k, v in tx.items() if k in ("from", "to", "data", "gas", "value")}
                tx["max_fee_per_gas"], tx["max_priority_fee_per_gas"] = 10**13, 0
                return self.tester.call(tx, _block(params[1] if len(params) > 1 else "latest"))
            if method == "eth_getLogs":
                query = params[0]
                logs = self.tester.get_logs(
                    from_block=_block(query.get("fromBlock", "earliest")),
                    to_block=_block(query.get("toBlock", "latest")),
                    address=query.get("address"), topics=query.get("topics"),
                )
                return [_log_json(entry) for entry in logs]
        raise _RpcError(-32601, f"the method {method} does not exist/is not available")

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        method, params, rid = body.get("method"), body.get("params") or [], body.get("id")
        self.calls[method] += 1
        fault = self._take_fault(method)
        if fault is not None:
            if fault.mode == "timeout":
                await asyncio.sleep(fault.delay)
            elif fault.mode == "garbage":
                return web.Response(body=b"<html>502 bad gateway</html>",
                                    content_type="application/json")
            elif fault.mode == "http500":
                return web.Response(status=500, text="internal error")
            elif fault.mode == "bad_result":
                return web.json_response({"jsonrpc": "2.0", "id": rid, "result": "0xnothex"})
            elif fault.mode == "error":
                return web.json_response({"jsonrpc": "2.0", "id": rid,
                                          "error": {"code": -32000, "message": "node overloaded"}})
        try:
            result = self._dispatch(method, params)
        except _RpcError as exc:
            return web.json_response({"jsonrpc": "2.0", "id": rid,
                                      "error": {"code": exc.code, "message": exc.message}})
        except TransactionFailed as exc:
            return web.json_response({"jsonrpc": "2.0", "id": rid,
                                      "error": {"code": 3, "message": f"execution reverted: {exc}"}})
        return web.json_response({"jsonrpc": "2.0", "id": rid, "result": result})

    # -- server thread ----------------------------------------------------------------------

    def start(self) -> ChainRig:
        """Serve JSON-RPC on a free 127.0.0.1 port (in a daemon thread); sets `url`."""
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application()
            app.router.add_post("/", self._handle)
            self._runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.url = f"http://127.0.0.1:{port}/"
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="chain-rig", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        """Stop the server thread."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)


class _RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _block(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("0x"):
        return int(value, 16)
    return value


def _log_json(entry: dict[str, Any]) -> dict[str, Any]:
    def hexify(value: Any) -> Any:
        if isinstance(value, bytes):
            return "0x" + value.hex()
        if isinstance(value, int):
            return hex(value)
        return value

    out = {key: hexify(value) for key, value in entry.items() if key != "topics"}
    out["topics"] = [hexify(t) for t in entry["topics"]]
    renames = {"block_number": "blockNumber", "block_hash": "blockHash",
               "transaction_hash": "transactionHash", "transaction_index": "transactionIndex",
               "log_index": "logIndex"}
    return {renames.get(k, k): v for k, v in out.items()}
