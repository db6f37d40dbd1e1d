"""When each phase of a start ended, for one log line at READY (issue 28: start-up cost).

`python -m bot` imports this module first, so its clock starts with the command line (the
interpreter's own start-up, ~50 ms, is before it).
"""

from __future__ import annotations

import time

_ORIGIN = time.monotonic()


class StartupPhases:
    """Seconds from the start of `python -m bot` to the end of each phase."""

    def __init__(self, origin: float = _ORIGIN) -> None:
        self.origin = origin
        self.marks: list[tuple[str, float]] = []

    def mark(self, name: str) -> None:
        """Note that phase `name` ended now."""
        self.marks.append((name, time.monotonic() - self.origin))

    def summary(self) -> str:
        """`imports 1.10 s, store 1.32 s, ...` (each the time since the start)."""
        return ", ".join(f"{name} {at:.2f} s" for name, at in self.marks)


__all__ = ["StartupPhases"]
