"""A member's own preferences (time zone)."""

from __future__ import annotations

from economy.core.features import Feature

FEATURE = Feature(
    name="profile",
    label="Profiles",
)
