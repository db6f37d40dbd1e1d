"""Chain fixtures: one JSON-RPC rig per test session, reverted to a clean snapshot per test."""

from __future__ import annotations

import pytest

from tests.chain.rig import ChainRig


@pytest.fixture(scope="session")
def chain_rig():
    """The session's EVM behind its JSON-RPC endpoint (contracts deployed once)."""
    rig = ChainRig().start()
    yield rig
    rig.stop()


@pytest.fixture
def chain(chain_rig):
    """The rig, rolled back to a clean state (and counters/faults reset) after the test."""
    snap = chain_rig.snapshot()
    chain_rig.calls.clear()
    yield chain_rig
    chain_rig.revert(snap)
