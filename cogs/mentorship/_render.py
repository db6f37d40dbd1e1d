"""Embeds for mentorship (presentation only)."""

from __future__ import annotations

import discord

from cogs._shared.interaction import safe_text
from economy.core.clock import from_ms
from economy.mentorship.matching import format_ranges
from economy.mentorship.models import Goal, Mentor, MentorSummary, Pairing

COLOUR = discord.Colour.from_rgb(120, 200, 160)
STATUS = {
    "proposed": "🤝 Proposed — waiting for both to accept",
    "active": "🌱 Active",
    "ended": "🏁 Ended",
    "declined": "✖️ Declined",
    "expired": "⌛ Expired without an answer",
    "lapsed": "⌛ The mentor's last place was taken",
    "withdrawn": "↩️ Withdrawn by the mentee",
    "pending": "⏳ Waiting for the mentorship lead's approval",
    "paused": "⏸️ Paused (no new mentees)",
    "left": "👋 Left",
    "rejected": "✖️ Not approved",
}


def _when(ms: int) -> str:
    return discord.utils.format_dt(from_ms(ms), "R")


def proposal_embed(p: Pairing) -> discord.Embed:
    """A proposed match, with why it was proposed."""
    embed = discord.Embed(title=f"Mentorship proposal #{p.mentorship_id}", colour=COLOUR,
                          description=f"Mentor <@{p.mentor_id}> · mentee <@{p.mentee_id}>")
    embed.add_field(name="Why this match", value=safe_text(p.explanation, limit=300), inline=False)
    embed.add_field(name="Status", value=STATUS.get(p.status, p.status), inline=False)
    if p.status == "proposed":
        answered = [side for side in ("mentor", "mentee") if getattr(p, f"{side}_ok")]
        embed.add_field(name="Answer by", value=_when(p.expires_ms))
        if answered:
            embed.add_field(name="Accepted so far", value=", ".join(answered))
    return embed


def card_embed(p: Pairing, goals: list[Goal], settings_money) -> discord.Embed:
    """The pinned goals card of a mentorship thread."""
    embed = discord.Embed(title=f"Mentorship #{p.mentorship_id} · goals", colour=COLOUR,
                          description=f"Mentor <@{p.mentor_id}> · mentee <@{p.mentee_id}>\n"
                                      f"{safe_text(p.explanation, limit=300)}")
    lines = [f"{'✅' if g.status == 'done' else '⬜'} **{g.goal_no}.** {safe_text(g.text, limit=150)}"
             for g in goals]
    embed.add_field(name="Goals", value="\n".join(lines)[:1024] if lines else
                    "No goals yet: add one with `/mentor milestone add`.", inline=False)
    embed.add_field(name="Status", value=STATUS.get(p.status, p.status))
    embed.set_footer(text=f"The mentee confirms a goal with /mentor milestone done; the mentor earns "
                          f"{settings_money} per goal.")
    return embed


def profile_embed(name: str, mentor: Mentor, summary: MentorSummary,
                  verified: dict[str, int] | None = None) -> discord.Embed:
    """A mentor's profile (✔ marks skills a mentor or the lead verified, with that level)."""
    verified = verified or {}
    embed = discord.Embed(title=f"Mentor · {name}", colour=COLOUR,
                          description=safe_text(mentor.bio, limit=500) or None)
    skills = ", ".join(
        f"{s['skill']} {'★' * verified.get(s['skill'], int(s['level']))}"
        + (" ✔" if s["skill"] in verified else "") for s in mentor.skills)
    embed.add_field(name="Skills", value=skills[:1024], inline=False)
    embed.add_field(name="Time zone", value=mentor.zone)
    embed.add_field(name="Languages", value=", ".join(mentor.languages))
    embed.add_field(name="Mentees", value=f"{mentor.load} of {mentor.capacity}")
    embed.add_field(name="Free (local time)", value=format_ranges(mentor.availability)[:1024] or "—",
                    inline=False)
    embed.add_field(name="Reputation", value=summary.render(), inline=False)
    embed.add_field(name="Status", value=STATUS.get(mentor.status, mentor.status))
    return embed


def verified_embed(name: str, verified: dict[str, int]) -> discord.Embed:
    """A member's verified skills (members who are not mentors)."""
    lines = [f"{skill} {'★' * level} ✔" for skill, level in sorted(verified.items())]
    return discord.Embed(title=f"Verified skills · {name}", colour=COLOUR,
                         description="\n".join(lines))


def queue_text(user_id: int, reason: str) -> str:
    """The lead's queue message for a mentor waiting for approval."""
    return (f"🧑‍🏫 <@{user_id}> wants to mentor ({safe_text(reason, limit=200)}). "
            "Approve or reject:")
