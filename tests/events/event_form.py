"""Create an event the way a manager does: the short `/event-admin create`, then its form.

Tests keep writing the old option names (reward_attend=10, capacity=3, repeat="weekly"); this
splits them between the command and the form fields."""

from __future__ import annotations

COMMAND = ("type", "start", "duration", "channel", "reward_role", "require_code")
REWARDS = {"reward_attend": "attend", "reward_complete": "complete", "prize_1st": "1st",
           "prize_2nd": "2nd", "prize_3rd": "3rd"}


def form_values(options: dict) -> dict:
    """The form's fields for the old-style options that are not command options."""
    rewards = [f"{word} {options[key]}" for key, word in REWARDS.items() if key in options]
    if "role_days" in options:
        rewards.append(f"role {options['role_days']}d")
    values = {"Title": options.get("title", "Gem ID quiz"),
              "Description": options.get("description", "")}
    if rewards:
        values["Rewards in GEMS (optional)"] = ", ".join(rewards)
    if "capacity" in options:
        values["Places (empty: no limit)"] = str(options["capacity"])
    if options.get("repeat", "none") != "none":
        values["Repeat (optional)"] = f"{options['repeat']} {options.get('repeat_count', 4)}"
    return values


async def open_form(gc, who: str, **options):
    """Run `/event-admin create` with the command's options only."""
    return await gc.slash(who, "event-admin create", **{k: v for k, v in options.items() if k in COMMAND})


async def create(gc, who: str, **options):
    """The command, then the form; returns (opened, submitted)."""
    opened = await open_form(gc, who, **options)
    if opened.modal is None:
        return opened, None
    done = await gc.sb.submit_modal(gc[who], opened, form_values(options))
    return opened, done
