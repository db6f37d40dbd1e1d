"""Regenerate devtools/chain/fixtures/contracts.json from the Vyper sources (dev-only tool).

    .venv/bin/python devtools/chain/build_fixtures.py

vyper is a dev dependency only: the bot and the tests load the committed JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
SOURCES = {"erc721": "TestERC721.vy", "erc1155": "TestERC1155.vy", "aggregator": "Aggregator.vy"}


def build() -> dict:
    """Compile every contract; returns {name: {"abi": [...], "bytecode": "0x..."}}."""
    import vyper

    out = {"vyper": vyper.__version__}
    for name, filename in SOURCES.items():
        src = (HERE / "contracts" / filename).read_text()
        compiled = vyper.compile_code(src, output_formats=["abi", "bytecode"])
        out[name] = {"abi": compiled["abi"], "bytecode": compiled["bytecode"]}
    return out


if __name__ == "__main__":
    target = HERE / "fixtures" / "contracts.json"
    target.write_text(json.dumps(build(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {target}")
