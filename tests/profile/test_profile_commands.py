"""/profile end to end through the Discord sandbox: the card with the member's real avatar
(fetched once from the sandbox's CDN, then cached; cards cached by content), alt text, the
embed fallback, hidden parts and a hidden profile refused to others (nothing changed), the
old names answering "renamed to", and bad input."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.e2e_fixtures import db_state

pytestmark = pytest.mark.timeout(90)
RED = (220, 20, 60)


def png(colour: tuple[int, int, int], side: int = 256) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (side, side), colour).save(out, format="PNG")
    return out.getvalue()


def near(found: tuple[int, ...], colour: tuple[int, int, int]) -> bool:
    """The card is a 256-colour PNG: a pixel is within a few steps of the avatar's colour."""
    return all(abs(a - b) <= 6 for a, b in zip(found, colour, strict=True))


def cog(gc):
    return gc.bot.get_cog("ProfileCog")


async def profile_state(gc) -> tuple:
    return await db_state(gc), await gc.db["profile_privacy"].count_documents({})


async def test_the_card_draws_the_members_avatar_fetched_once(gc):
    gc.sb.set_avatar(gc["alice"], png(RED))
    await gc.sb.settle()
    await gc.services.ledger.earn(gc.guild.id, gc["alice"].id, 1200, key="work")
    card = await gc.slash("bob", "profile view", member=gc["alice"])
    assert not card.ephemeral
    fields = {f.name: f.value for f in card.embeds[0].fields}
    assert "1,200" in fields["Balance"] and "rank #1" in fields["Balance"]
    picture = Image.open(io.BytesIO(card.files["profile.png"])).convert("RGB")
    assert picture.size == (800, 262)
    assert near(picture.getpixel((24 + 56, 24 + 56)), RED)  # the avatar's middle
    alt = card.message.attachments[0].description
    assert alt.startswith("Profile card of alice") and "Balance" in alt
    again = await gc.slash("carol", "profile view", member=gc["alice"])
    assert again.files["profile.png"] == card.files["profile.png"]
    assert cog(gc).avatars.downloads == 1 and cog(gc).cards.hits == 1
    # A new avatar is a new URL: fetched once more, a new card.
    gc.sb.set_avatar(gc["alice"], png((0, 120, 255)))
    await gc.sb.settle()
    fresh = await gc.slash("carol", "profile view", member=gc["alice"])
    picture = Image.open(io.BytesIO(fresh.files["profile.png"])).convert("RGB")
    assert near(picture.getpixel((80, 80)), (0, 120, 255))
    assert cog(gc).avatars.downloads == 2


async def test_without_an_avatar_the_initial_is_drawn_and_nothing_is_fetched(gc):
    card = await gc.slash("bob", "profile view")
    assert card.files["profile.png"].startswith(b"\x89PNG")
    assert cog(gc).avatars.downloads == 0


async def test_when_the_picture_fails_the_embed_still_answers(gc, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("no font")

    monkeypatch.setattr(cog(gc).cards, "render", broken)
    card = await gc.slash("bob", "profile view")
    assert not card.files and card.embeds[0].title == "bob"
    assert "Balance" in {f.name for f in card.embeds[0].fields}


async def test_hidden_parts_and_a_hidden_profile(gc):
    r = await gc.slash("alice", "profile hide", part="balance")
    assert r.ephemeral and "Hidden from other members: balance and rank." in r.content
    seen = await gc.slash("bob", "profile view", member=gc["alice"])
    names = {f.name for f in seen.embeds[0].fields}
    assert "Balance" not in names and "Daily streak" in names
    assert "Balance" not in seen.message.attachments[0].description
    own = await gc.slash("alice", "profile view")
    assert "Balance" in {f.name for f in own.embeds[0].fields}
    assert "Hidden from others: balance and rank" in own.embeds[0].footer.text
    await gc.slash("alice", "profile hide", part="all")
    before = await profile_state(gc)
    for command, options in [("profile view", {"member": gc["alice"]}),
                             ("profile badges", {"member": gc["alice"]})]:
        r = await gc.sb.slash(gc["bob"], command, options)
        assert r.ephemeral and "keeps their profile private" in r.content, command
        assert not r.files
    assert await profile_state(gc) == before
    r = await gc.slash("alice", "profile hide", part="all", hidden=False)
    assert "balance and rank" in r.content and "whole" not in r.content


async def test_bad_input_is_refused_privately_and_changes_nothing(gc):
    before = await profile_state(gc)
    for who, command, options, expected in [
        ("bob", "profile showcase", {"first": "nope"}, "don't hold"),
        ("bob", "profile showcase", {"first": "first_sale"}, "don't hold"),
        ("bob", "badge-admin create", {"name": "Helper", "description": "Helped out",
                                       "emoji": "🛟", "rarity": "rare"}, "Only server admins"),
        ("admin", "badge-admin give", {"badge": "nope", "member": gc["bob"],
                                       "reason": "because"}, "no badge `nope`"),
        ("bob", "profile timezone", {"zone": "Atlantis/Capital"}, "don't know the time zone"),
    ]:
        r = await gc.sb.slash(gc[who], command, options)
        assert r.ephemeral and expected in r.content, (command, r.content)
    assert await profile_state(gc) == before


@pytest.mark.parametrize(("old", "new"), [("my timezone", "profile timezone"),
                                          ("badge list", "profile badges"),
                                          ("badge showcase", "profile showcase"),
                                          ("badge profile", "profile view")])
async def test_old_names_answer_renamed_to(gc, old, new):
    r = await gc.sb.slash(gc["bob"], "help", {"command": old})
    assert r.ephemeral and f"`/{old}` was renamed to `/{new}`" in r.content
    assert r.embeds[0].title == f"/{new}"


async def test_the_collection_is_a_gallery_of_badges_and_collectibles(gc):
    from economy.core.actor import Actor

    staff = Actor.system()
    g, alice = gc.guild.id, gc["alice"].id
    r = await gc.slash("alice", "profile collection")
    assert r.ephemeral and "no badges yet" in r.text and not r.files  # nothing to show yet
    founder = await gc.services.badges.create(g, staff, name="Founding member",
                                              description="Here from the start", emoji="🏛️",
                                              rarity="legendary", supply=3, tradeable=True)
    helper = await gc.services.badges.create(g, staff, name="Helper", description="Helps",
                                             emoji="🤝", rarity="rare")
    await gc.services.badges.give(g, staff, founder.key, alice, reason="day one")
    await gc.services.badges.give(g, staff, helper.key, alice, reason="answers questions")
    r = await gc.slash("bob", "profile collection", member=gc["alice"])
    assert not r.ephemeral and r.embeds[0].title == "alice's collection"
    assert "Founding member #1 · collectible" in r.embeds[0].description
    picture = Image.open(io.BytesIO(r.files["collection.png"]))
    assert picture.width == 2 * 24 + 4 * 180 + 3 * 12 and picture.height > 56
    alt = r.message.attachments[0].description
    assert alt.startswith("Collection of alice: 2 badges") and "legendary #1, collectible" in alt
    # A member who hides their badges hides their collection too, from others only.
    before = await profile_state(gc)
    await gc.slash("alice", "profile hide", part="badges")
    hidden = await gc.slash("bob", "profile collection", member=gc["alice"])
    assert hidden.ephemeral and not hidden.files
    assert (await gc.slash("alice", "profile collection")).files  # still hers to see
    assert (await profile_state(gc))[0] == before[0]  # no money or settings moved
