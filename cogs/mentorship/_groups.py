"""The mentorship command groups (shared by `_cog.py` and `_guides.py`, which adds the guide
subcommands to the same cog) and the skill-list autocomplete both use."""

from __future__ import annotations

from discord import app_commands

from cogs._shared.feature_cog import admin_group, member_group

#: /mentor: mentors, finding a mentor, your mentorships, milestones and guides.
mentor = member_group("mentor", "Mentoring: find a mentor, mentor others, milestones, guides")
milestone = app_commands.Group(name="milestone", description="Milestones (goals) of a mentorship",
                               parent=mentor)
guide = app_commands.Group(name="guide", description="Guides written by members", parent=mentor)
#: /mentor-admin: the lead's tools (admins or the lead role) and the reviewers' (skills, guides).
mentor_admin = admin_group("mentor-admin", "Mentorship lead and review tools", moderators=True)


def skill_choices(current: str, skills: tuple[str, ...]) -> list[app_commands.Choice[str]]:
    """Autocomplete the last item of a comma-separated skill list."""
    head, sep, last = current.rpartition(",")
    prefix = f"{head}{sep} " if sep else ""
    name_part, colon, level = last.strip().partition(":")
    fragment = name_part.strip().lower()
    used = {part.split(":")[0].strip().lower() for part in head.split(",")}
    choices = []
    for skill in skills:
        if fragment in skill and skill not in used:
            value = f"{prefix}{skill}{colon}{level.strip()}".strip()
            if len(value) <= 100:
                choices.append(app_commands.Choice(name=value, value=value))
    return choices[:25]
