from economy.core.actor import Actor
from economy.core.audit import audit

G = 1


async def test_transfer_and_audit(services):
    await services.ledger.grant(G, Actor(9, is_admin=True), 1, 100, reason="seed", key="g1")
    m = await services.ledger.transfer(G, 1, 2, 30, key="t1")
    assert m.entry_for(1).balance_after == 70
    assert await services.ledger.balance(G, 2) == 30
    report = await audit(services.db)
    assert report.ok, report.render()
