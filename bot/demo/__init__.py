"""`python -m bot demo`: the real bot against the offline Discord sandbox, with a script.

Starts a throwaway in-memory store, a small community in the sandbox and the real GemsBot, plays
every scene in `bot/demo/scenes/` (features add theirs there), prints a readable transcript, and
ends with the ledger audit. Exit code 0 only if every scene ran and the audit held.
"""

from bot.demo.runner import run_demo

__all__ = ["run_demo"]
