"""Creativity challenges: entries in the gallery, peer votes, moderator accept, refusals."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from economy.core.actor import Actor
from tests.challenges.helpers import ART, CHAT, QUIZ, fix_day
from tests.challenges.test_challenge_commands import state

pytestmark = pytest.mark.timeout(60)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


async def setup_gallery(gc):
    gallery = gc.sb.create_channel(gc.guild, "gallery")
    await gc.sb.settle()
    await gc.services.settings.set(gc.guild.id, Actor.system(), "challenge_gallery_channel_id", str(gallery.id))
    await fix_day(gc.services, gc.guild.id, defs=(QUIZ, ART, CHAT))
    return gallery


async def enter(gc, who: str, caption: str | None = "Blue chalcedony cab", data: bytes | None = None):
    options = {"challenge_id": ART.id}
    if data is not None:
        options["image"] = gc.sb.attachment("cab.png", data, "image/png")
    if caption is not None:
        options["caption"] = caption
    return await gc.slash(who, "challenge submit", **options)


async def test_entry_votes_and_refusals(gc):
    gallery = await setup_gallery(gc)
    before = await state(gc)
    for kwargs, expected in [
        ({"data": None}, "Attach your photo"),
        ({"data": png(), "caption": "   "}, "Add a caption"),
        ({"data": b"%PDF-1.4 not a photo"}, "not an image"),
    ]:
        r = await enter(gc, "alice", **kwargs)
        assert r.ephemeral and expected in r.text, r.text
    assert await state(gc) == before
    assert await gc.db["challenge_submissions"].count_documents({}) == 0

    r = await enter(gc, "alice", caption="My cab <@&1> **wow**", data=png())
    assert r.ephemeral and "Your entry is in" in r.text
    post = gc.sb.channel_messages(gallery)[-1]
    assert "entry.jpg" in post.files and post.files["entry.jpg"][:2] == b"\xff\xd8"  # re-encoded
    assert post.allowed_mentions == {"parse": []}
    again = await enter(gc, "alice", data=png())
    assert again.ephemeral and "already submitted" in again.text

    before = await state(gc)
    own = await gc.click("alice", post, "👍 Vote")
    assert own.ephemeral and "your own entry" in own.content
    member_accept = await gc.click("bob", post, "✅ Accept (moderators)")
    assert member_accept.ephemeral and "Only moderators" in member_accept.content
    assert await state(gc) == before

    first = await gc.click("bob", post, "👍 Vote")
    assert "1/2" in first.content
    twice = await gc.click("bob", post, "👍 Vote")
    assert twice.ephemeral and "already voted" in twice.content
    await gc.restart_bot()  # the buttons are persistent
    second = await gc.click("carol", post, "👍 Vote")
    assert "2/2" in second.content
    rewards = await gc.db["ledger"].find({"kind": "reward", "user_id": gc["alice"].id}).to_list()
    assert [e["delta"] for e in rewards] == [ART.reward]
    assert "completed" in gc.sb.channel_messages(gallery)[-1].content
    late = await gc.click("dave", post, "👍 Vote")  # more votes never pay again
    assert "3/2" in late.content
    assert await gc.db["ledger"].count_documents({"kind": "reward", "user_id": gc["alice"].id}) == 1
    today = await gc.slash("alice", "challenge today")
    assert "✅ done" in today.text


async def test_moderator_accepts_an_entry(gc):
    gallery = await setup_gallery(gc)
    await enter(gc, "erin", data=png())
    post = gc.sb.channel_messages(gallery)[-1]
    ok = await gc.click("mod", post, "✅ Accept (moderators)")
    assert ok.ephemeral and "accepted" in ok.content
    again = await gc.click("mod", post, "✅ Accept (moderators)")
    assert again.ephemeral and "already accepted" in again.content
    rewards = await gc.db["ledger"].find({"kind": "reward", "user_id": gc["erin"].id}).to_list()
    assert [e["delta"] for e in rewards] == [ART.reward]


async def test_creativity_is_drawn_only_with_a_gallery(gc):
    for _ in range(10):
        _, defs = await gc.services.challenges.todays_set(gc.guild.id)
        assert all(c.type != "creativity" for c in defs)
        await gc.advance(hours=24)
    gallery = gc.sb.create_channel(gc.guild, "gallery")
    await gc.services.settings.set(gc.guild.id, Actor.system(), "challenge_gallery_channel_id", str(gallery.id))
    kinds = set()
    for _ in range(6):
        await gc.advance(hours=24)
        _, defs = await gc.services.challenges.todays_set(gc.guild.id)
        kinds |= {c.type for c in defs}
    assert "creativity" in kinds
