import pytest
pytestmark = pytest.mark.timeout(60)

async def test_try(gc):
    r = await gc.slash("admin", "settings edit")
    print(r.text)
    print([ (c.type, c.custom_id, c.label or c.placeholder) for c in r.message.components])
    ch = gc.sb.create_channel(gc.guild, "ann")
    r2 = await gc.sb.select(gc["admin"], r, "gset:s:ch:announcements_channel_id", [ch])
    print(r2.text)
    r3 = await gc.sb.select(gc["admin"], r, "gset:s:sec", ["trades"])
    print(r3.text)
    print([ (c.type, c.custom_id, c.label or c.placeholder) for c in r3.message.components])
    r4 = await gc.click("admin", r3, "Edit 1–5")
    print(r4.modal)
    r5 = await gc.sb.submit_modal(gc["admin"], r4, {"Escrow fee bps": "300"})
    print(r5.text)
    r = await gc.slash("admin", "setup")
    print(r.text)
