"""The shop: members spend GEMS on roles (permanent or for N days) and consumables."""

from __future__ import annotations

from typing import Any

from economy.core.features import Core, Feature
from economy.shop.settings import ShopSettings


def build(core: Core) -> dict[str, Any]:
    """The shop service, built from the core."""
    from economy.shop.repo import ShopRepo
    from economy.shop.service import ShopService

    return {"shop": ShopService(ShopRepo(core.db), core.ledger, core.settings, core.clock)}


FEATURE = Feature(
    name="shop",
    label="The shop",
    settings=ShopSettings,
    build=build,
    personal_collections=frozenset({"shop_holdings", "shop_purchases"}),
    custom_id_prefixes=("shop",),
    # Staff settle a custom item's ticket (GEMS back, or handed over) even with the shop off.
    settling_custom_ids=("shop:ful:", "shop:rfd:"),
)
