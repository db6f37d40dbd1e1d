"""How hard the randomized tests push: the everyday sizes, or the deep ones.

`./gems test` runs every test with sizes that keep the suite inside its time budget; with
GEMS_DEEP_TESTS=1 (`./gems test --deep`) the property and state-machine tests run the larger
sizes they were first tuned with (more examples, longer interleavings), for a change that touches
money paths or before a release.
"""

from __future__ import annotations

import os

#: True when the deep sizes are asked for.
DEEP = os.environ.get("GEMS_DEEP_TESTS", "") not in ("", "0")


def deep(everyday: int, deep_size: int) -> int:
    """`deep_size` under GEMS_DEEP_TESTS=1, else `everyday`."""
    return deep_size if DEEP else everyday
