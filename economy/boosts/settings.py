"""Settings section of boosts: boosts and double-GEMS weekends.

Part of the guild settings (economy/registry.py composes them); stored under the same flat
keys as ever, so no data migration.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from economy.core.sections import Section


class BoostsSettings(Section):
    """Boosts and double-GEMS weekends."""

    double_weekend: bool = Field(False, description="Double-GEMS weekend every week (in the server's time zone)")
    double_weekend_start_day: int = Field(4, ge=0, le=6, description="Weekend start day (monday..sunday or 0-6, 0 = Monday)")
    double_weekend_start_hour: int = Field(18, ge=0, le=23, description="Weekend start hour, local time (0-23)")
    double_weekend_end_day: int = Field(6, ge=0, le=6, description="Weekend end day (monday..sunday or 0-6)")
    double_weekend_end_hour: int = Field(24, ge=1, le=24, description="Weekend end hour, local (24 = midnight after the end day)")
    double_weekend_factor_bps: int = Field(20_000, ge=11_000, le=100_000, description="Weekend factor in basis points (20000 = x2)")
    boost_stacking: Literal["highest", "multiply"] = Field("highest", description="Overlapping boosts: highest factor applies, or multiply (capped at x10)")
    boost_applies_to: list[str] = Field(default_factory=lambda: ["activity", "daily", "challenge", "earn", "income"], description="Earnings that boosts multiply: activity, daily, challenge, earn, reward, event, income")

    @field_validator("double_weekend_start_day", "double_weekend_end_day", mode="before")
    @classmethod
    def _weekday(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip().isdigit():
            name = value.strip().lower()
            days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
            for index, day in enumerate(days):
                if len(name) >= 3 and day.startswith(name):
                    return index
            raise ValueError("use a weekday name (friday) or 0-6 (0 = Monday)")
        return value

    @field_validator("boost_applies_to")
    @classmethod
    def _boost_sources(cls, value: list[str]) -> list[str]:
        allowed = ("activity", "daily", "challenge", "earn", "reward", "event", "income")
        names = []
        for raw in value:
            name = str(raw).strip().lower()
            if name not in allowed:
                raise ValueError(f"{name[:20]!r} is not an earning source; use {', '.join(allowed)}")
            if name not in names:
                names.append(name)
        return names
