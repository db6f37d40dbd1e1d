"""Helpers shared by the feature cogs (Discord-facing only; no business rules)."""
