"""Boosts and double-GEMS weekends: time windows that multiply earnings."""

from __future__ import annotations

from typing import Any

from economy.boosts.settings import BoostsSettings
from economy.core.features import Core, Feature


def build(core: Core) -> dict[str, Any]:
    """The boosts services, built from the core."""
    # Built with the core: the ledger multiplies earnings by the active boosts.
    return {"boosts": core.shared["boosts"]}


FEATURE = Feature(
    name="boosts",
    label="Boosts",
    settings=BoostsSettings,
    build=build,
)
