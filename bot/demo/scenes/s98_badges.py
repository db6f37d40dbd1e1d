"""Badges: earned by what members did, a limited edition given by an admin, a showcase and
the profile card (with alice's avatar, served by the sandbox's CDN as Discord's would)."""

import io
from pathlib import Path

from PIL import Image, ImageDraw

ORDER = 98
TITLE = "Badges and the profile card (/profile)"
OUT = Path("var") / "demo"  # runtime output, git-ignored


def demo_avatar() -> bytes:
    """A made-up avatar: a gem on a gradient (what alice uploaded to Discord)."""
    image = Image.new("RGB", (256, 256))
    draw = ImageDraw.Draw(image)
    for y in range(256):
        draw.line((0, y, 255, y), fill=(30 + y // 3, 60 + y // 4, 140 + y // 3))
    draw.polygon([(128, 40), (210, 110), (128, 220), (46, 110)], fill=(80, 220, 200),
                 outline=(255, 255, 255), width=6)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def play(t, gc) -> None:
    """Rules awarded during the earlier scenes; /badge-admin create|give|revoke|rule;
    /profile badges|showcase|view|hide; a sold-out edition refused."""
    guild = gc.guild.id
    earned = {m: [a.badge.key for a in await gc.services.badges.awards(guild, gc[m].id)]
              for m in ("alice", "bob", "carol")}
    t.note("Badges were awarded as the earlier scenes happened: "
           + "; ".join(f"{m}: {', '.join(keys) or 'none yet'}" for m, keys in earned.items()))
    t.check(any(earned.values()), "automatic badges were awarded by the actions of earlier scenes")
    rule = await t.slash("admin", "badge-admin rule", badge="first_guide", enabled=True,
                         reward=25)
    t.check("`first_guide` is on" in rule.text, "an admin attaches a GEMS reward to a rule")
    made = await t.slash("admin", "badge-admin create", name="Founding member",
                         description="One of the first two members", emoji="🌟",
                         rarity="legendary", supply=2)
    t.check("limited to 2" in made.text, "an admin creates a limited edition of 2")
    key = next(b.key for b in (await gc.services.badges.catalogue(guild)).values()
               if b.name == "Founding member")
    for member in ("alice", "bob"):
        given = await t.slash("admin", "badge-admin give", badge=key, member=gc[member],
                              reason="here since day one")
        t.check("now holds" in given.text, f"{member} gets a numbered edition")
    sold = await t.slash("admin", "badge-admin give", badge=key, member=gc["carol"],
                         reason="here since day two")
    t.check(sold.ephemeral and "sold out" in sold.text, "the third is refused: sold out")
    listed = await t.slash("carol", "profile badges", member=gc["alice"])
    t.check("Founding member" in listed.text, "anyone sees a member's badges")
    pinned = await t.slash("alice", "profile showcase", first=key)
    t.check("Your showcase" in pinned.text, "alice pins the edition on her profile")
    gc.sb.set_avatar(gc["alice"], demo_avatar())
    await gc.sb.settle()
    card = await t.slash("bob", "profile view", member=gc["alice"])
    t.check("Founding member" in card.text and "Balance" in card.text,
            "the profile card shows balance, rank, streak and the showcase")
    picture = card.files.get("profile.png")
    t.check(bool(picture) and picture.startswith(b"\x89PNG"), "the card comes as an image too")
    if picture:
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "profile_card.png").write_bytes(picture)
        t.note(f"The profile card image is saved as {OUT / 'profile_card.png'}.")
    hid = await t.slash("alice", "profile hide", part="balance")
    t.check(hid.ephemeral and "balance and rank" in hid.text, "alice hides her balance")
    seen = await t.slash("bob", "profile view", member=gc["alice"])
    t.check("Balance" not in seen.text and "Founding member" in seen.text,
            "others no longer see it; the rest of her profile stays")
    taken = await t.slash("admin", "badge-admin revoke", badge=key, member=gc["bob"],
                          reason="given by mistake")
    t.check("back from" in taken.text, "an admin takes a badge back, with a recorded reason")
    again = await t.slash("admin", "badge-admin give", badge=key, member=gc["carol"],
                          reason="here since day two")
    t.check("now holds" in again.text, "the freed edition goes to carol")
