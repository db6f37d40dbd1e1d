"""The audit finds every kind of ledger/balance disagreement."""

from __future__ import annotations

from economy.core.actor import Actor
from economy.core.audit import audit

G = 3


async def test_audit_detects_tampering(services):
    await services.ledger.grant(G, Actor(1, is_admin=True), 10, 100, reason="seed", key="s")
    await services.ledger.transfer(G, 10, 11, 30, key="t")
    assert (await audit(services.db)).ok
    db = services.db
    await db["accounts"].update_one({"guild_id": G, "user_id": 10}, {"$inc": {"balance": 5}})
    await db["ledger"].insert_one({"guild_id": G, "user_id": 99, "delta": 7, "held_delta": 0,
                                   "mint": False, "idempotency_key": "ghost", "leg": 0})
    await db["accounts"].insert_one({"guild_id": G, "user_id": 12, "balance": -1, "held": 0})
    report = await audit(services.db)
    text = report.render()
    assert not report.ok
    assert "user 10: balance+held 75 != ledger 70" in text
    assert "user 99: ledger 7 but no account" in text
    assert "user 12: negative balance" in text
    assert "supply" in text and "operation ghost: transfer legs sum to 7" in text
