"""What Discord-contract validation costs the sandbox per request (discord_sandbox/contract.py).

    .venv/bin/python bench/contract_bench.py [--n 20000]

Loads the schema file (building it with npm/node if needed), then validates typical bodies the
bot sends: an interaction callback with an embed and buttons, a follow-up, an edit of the
original response with a select, a channel message, and a role-create; prints the load and first
(compiling) validation times and the steady per-validation cost.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from discord_sandbox.contract import load_contract

EMBED = {"title": "Marketplace", "description": "d" * 600, "color": 0x5865F2, "flags": 0,
         "timestamp": "2026-12-07T10:00:00+00:00", "footer": {"text": "Page 1/3"},
         "fields": [{"name": f"Item {i}", "value": "v" * 120, "inline": True} for i in range(6)]}
BUTTONS = {"type": 1, "components": [
    {"type": 2, "style": 1, "label": f"Buy {i}", "custom_id": f"market:buy:{i}", "disabled": False}
    for i in range(5)]}
SELECT = {"type": 1, "components": [{"type": 3, "custom_id": "market:cat", "placeholder": "Category",
          "min_values": 1, "max_values": 1, "disabled": False, "options": [
              {"label": f"Cat {i}", "value": str(i), "description": "x" * 40, "default": False}
              for i in range(20)]}]}
MESSAGE = {"content": "Here you go", "embeds": [EMBED], "components": [BUTTONS, SELECT],
           "allowed_mentions": {"parse": [], "users": [], "roles": [], "replied_user": False},
           "tts": False, "flags": 64}
CASES = [
    ("POST", "/interactions/{interaction_id}/{interaction_token}/callback",
     {"type": 4, "data": MESSAGE}),
    ("POST", "/webhooks/{webhook_id}/{webhook_token}", MESSAGE),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
     {k: v for k, v in MESSAGE.items() if k != "flags"}),
    ("POST", "/channels/{channel_id}/messages",
     {k: v for k, v in MESSAGE.items() if k != "flags"}),
    ("POST", "/guilds/{guild_id}/roles", {"name": "Holder", "permissions": "0", "color": 0,
                                          "hoist": False, "mentionable": False}),
]


def main() -> None:
    """Print load, compile and per-validation times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    args = parser.parse_args()
    t0 = time.perf_counter()
    contract = load_contract(required=True)
    assert contract is not None
    t1 = time.perf_counter()
    for method, path, body in CASES:
        assert contract.validate(method, path, body) is None, (method, path)
    t2 = time.perf_counter()
    print(f"discord-api-spec {contract.version}: load {1e3 * (t1 - t0):.0f} ms, "
          f"first validation of {len(CASES)} routes (compiles) {1e3 * (t2 - t1):.0f} ms")
    for method, path, body in CASES:
        start = time.perf_counter()
        for _ in range(args.n):
            contract.validate(method, path, body)
        per = (time.perf_counter() - start) / args.n
        print(f"  {method:5} {path:60} {1e6 * per:7.1f} µs  ({1 / per:,.0f}/s)")


if __name__ == "__main__":
    main()
