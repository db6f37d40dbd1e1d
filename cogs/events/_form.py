"""The `/event-admin create` form: the command takes what it needs to check first (type, start,
duration, channel, reward role, code); the form takes the rest (title, description, rewards,
capacity, repeat). Five text inputs: Discord's limit for a modal."""

from __future__ import annotations

import re
from datetime import timedelta

import discord

from bot.error_handler import handle_interaction_error
from cogs._shared.interaction import NO_PINGS, actor_of, guild_id_of, safe_text, services_of
from cogs._shared.ui import GatedModal
from economy.core import timeparse
from economy.core.errors import InvalidInput

_REWARD_KEYS = {
    "attend": "reward_attend", "attendance": "reward_attend", "checkin": "reward_attend",
    "check-in": "reward_attend", "complete": "reward_complete", "completion": "reward_complete",
    "1st": "prize_1st", "first": "prize_1st", "2nd": "prize_2nd", "second": "prize_2nd",
    "3rd": "prize_3rd", "third": "prize_3rd", "role": "role_days",
}
_PAIR = re.compile(r"^([a-z0-9-]+)\s*[:=]?\s*(\S+)$")
_REPEAT = re.compile(r"^(weekly|monthly)(?:\s*[x×]?\s*(\d{1,3}))?(?:\s*times)?$")
REWARDS_HINT = "attend 10, complete 20, 1st 100, 2nd 50, 3rd 25"
DEFAULT_ROLE_DAYS = 7


def parse_rewards(text: str | None, *, has_role: bool = False) -> dict[str, int]:
    """`attend 10, complete 20, 1st 100, 2nd 50, 3rd 25[, role 7d]` -> the draft's keywords.

    Amounts are checked by the service (range, whole numbers); this reads the shape only.
    """
    found = {"reward_attend": 0, "reward_complete": 0, "prize_1st": 0, "prize_2nd": 0,
             "prize_3rd": 0, "role_days": DEFAULT_ROLE_DAYS if has_role else 0}
    for part in filter(None, (p.strip() for p in str(text or "").lower().split(","))):
        match = _PAIR.match(part)
        key = _REWARD_KEYS.get(match.group(1)) if match else None
        if key is None:
            raise InvalidInput(f"I couldn't read `{part[:30]}` in the rewards. Write them like "
                               f"`{REWARDS_HINT}`" + (", `role 7d`." if has_role else "."))
        value = match.group(2)
        if key == "role_days":
            if not has_role:
                raise InvalidInput("`role …` sets how long the reward role lasts: pick the role "
                                   "in the command's `reward_role` option first.")
            span = timeparse.parse_duration(value, bare="days")
            found[key] = max(1, span // timedelta(days=1))
            continue
        if not re.fullmatch(r"-?\d{1,12}", value):
            raise InvalidInput(f"`{value[:20]}` is not a whole number of GEMS.")
        found[key] = int(value)
    return found


def parse_capacity(text: str | None) -> int | None:
    """Empty: no limit; otherwise a whole number (the service checks it is at least 1)."""
    raw = str(text or "").strip()
    if not raw:
        return None
    if not re.fullmatch(r"-?\d{1,9}", raw):
        raise InvalidInput("The capacity must be a whole number (leave it empty for no limit).")
    return int(raw)


def parse_repeat(text: str | None) -> tuple[str, int]:
    """Empty or `none`: once; `weekly 4` / `monthly x6`: that many occurrences in all."""
    raw = " ".join(str(text or "").lower().split())
    if raw in ("", "none", "no", "once"):
        return "none", 1
    match = _REPEAT.match(raw)
    if not match:
        raise InvalidInput("Repeat like `weekly 4` or `monthly 6` (occurrences in all), or "
                           "leave it empty.")
    return match.group(1), int(match.group(2) or 4)


class EventModal(GatedModal, title="New community event"):
    """The rest of a new event; the command's options were checked before it opened."""

    name = discord.ui.TextInput(label="Title", min_length=3, max_length=100)
    details = discord.ui.TextInput(label="Description", style=discord.TextStyle.paragraph,
                                   required=False, max_length=1000)
    rewards = discord.ui.TextInput(label="Rewards in GEMS (optional)", required=False,
                                   max_length=200, placeholder=REWARDS_HINT)
    capacity = discord.ui.TextInput(label="Places (empty: no limit)", required=False,
                                    max_length=9, placeholder="e.g. 20")
    repeat = discord.ui.TextInput(label="Repeat (optional)", required=False, max_length=20,
                                  placeholder="weekly 4 or monthly 6 (occurrences in all)")

    def __init__(self, options: dict) -> None:
        super().__init__(timeout=900)
        self.options = options
        if options.get("role_id"):
            # how long the reward role lasts rides in the same field (default a week)
            self.rewards.placeholder = f"{REWARDS_HINT}, role {DEFAULT_ROLE_DAYS}d"

    async def on_submit(self, interaction: discord.Interaction) -> None:
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        rewards = parse_rewards(self.rewards.value, has_role=bool(self.options.get("role_id")))
        repeat, count = parse_repeat(self.repeat.value)
        draft = await services.events.draft(
            guild_id, capacity=parse_capacity(self.capacity.value),
            prizes=(rewards.pop("prize_1st"), rewards.pop("prize_2nd"), rewards.pop("prize_3rd")),
            repeat=repeat, repeat_count=count, **rewards, **self.options)
        event = await services.events.create(guild_id, await actor_of(interaction), draft,
                                             title=self.name.value, description=self.details.value)
        text = f"Created event #{event.event_id}: **{safe_text(event.title, limit=100)}**."
        if event.checkin_code:
            text += f"\nCheck-in code (read it out at the event): **{event.checkin_code}**"
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)
        from cogs.events._views import desk_of

        await desk_of(interaction).announce_new(event)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await handle_interaction_error(interaction, error, where="event:create")
