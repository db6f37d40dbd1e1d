"""Settings section of the shop: where the GEMS members spend go.

Part of the guild settings (economy/registry.py composes them); keys are stored flat.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from economy.core.sections import Section


class ShopSettings(Section):
    """The shop."""

    shop_sink: Literal["treasury", "burn"] = Field("treasury", description="What happens to the GEMS members spend in the shop: they go to the server treasury, or are burned (removed from the supply)")
    listing_boost_hours: int = Field(24, ge=1, le=720, description="How long a listing boost (a shop consumable) keeps a listing first in the marketplace, in hours; using another extends it")
