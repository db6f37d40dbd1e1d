"""Settings section of nft: wallets and NFT-holder roles.

Part of the guild settings (economy/registry.py composes them); stored under the same flat
keys as ever, so no data migration.
"""

from __future__ import annotations

import re
from decimal import Decimal

from pydantic import Field, field_validator

from economy.core.sections import Section


def parse_perks(text: str) -> dict[int, int]:
    """`"<@&1>:1.5, 2:x2"` -> {1: 15000, 2: 20000} (factors 1.1-10); ValueError otherwise."""
    perks: dict[int, int] = {}
    text = text.strip()
    if text.lower() in ("", "none", "off"):
        return perks
    for part in (p.strip() for p in text.split(",")):
        match = re.fullmatch(r"(?:<@&)?(\d{1,20})>?\s*:\s*x?(\d{1,2}(?:\.\d{1,2})?)x?", part, re.I)
        if not match:
            raise ValueError(f"{part[:40]!r}: use role:factor pairs like @Holder:1.5")
        bps = int(Decimal(match.group(2)) * 10_000)
        if not 11_000 <= bps <= 100_000:
            raise ValueError(f"{part[:40]!r}: a perk factor goes from 1.1 to 10")
        perks[int(match.group(1))] = bps
    if len(perks) > 20:
        raise ValueError("at most 20 perk roles")
    return perks


class NftSettings(Section):
    """Wallets and NFT-holder roles."""

    holder_perks: str = Field("", max_length=400, description="Earning perks per role, e.g. @Holder:1.5, @Whale:2 (the boost stacking rule applies)")
    nft_sync_minutes: int = Field(30, ge=5, le=1440, description="Minutes between periodic NFT role syncs")
    nft_log_channel_id: int | None = Field(None, description="Admin channel for NFT role sync problems (role hierarchy, permissions)")

    @field_validator("holder_perks")
    @classmethod
    def _perk_table(cls, value: str) -> str:
        # Stored in the form it is typed in, so it validates again when read back.
        return ",".join(f"{role}:{(Decimal(bps) / 10_000).normalize():f}"
                        for role, bps in parse_perks(value).items())

    @property
    def perk_factors(self) -> dict[int, int]:
        """Holder perks: role id -> earning factor in basis points."""
        return parse_perks(self.holder_perks)
