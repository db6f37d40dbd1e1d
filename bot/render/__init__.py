"""Pillow renderings (cards, grids, charts): presentation only, no business rules."""
