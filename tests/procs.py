"""Process helpers for lifecycle tests."""

from __future__ import annotations

import os
import time


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def wait_dead(pid: int, within: float = 10.0) -> bool:
    """Wait until `pid` is gone; False if it is still alive after `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def read_until(stream, marker: str) -> list[str]:
    """Lines read from a child's text `stream` up to and including the first starting with
    `marker` (AssertionError if the child ends first)."""
    lines = []
    for line in stream:
        lines.append(line.rstrip("\n"))
        if line.startswith(marker):
            return lines
    raise AssertionError(f"the child ended before printing {marker!r}: {lines[-5:]}")
