"""Badges: the catalogue, awarding (by rules or by staff) and showcases.

Awarding is one transaction per (member, badge): the award document's unique `_id` makes it
happen once; a limited edition takes one `cap_slots` place (1..supply) in the same transaction,
so no more than `supply` members ever hold it, whoever races (economy/repos/slot_repo.py); a
GEMS reward is paid by the ledger in that same transaction (`also`), with the idempotency key
`badge:<badge>:<member>`, so a member is paid once per badge even when it is revoked and given
again.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from economy.badges.collectibles import open_listing
from economy.badges.models import (
    CUSTOM_MAX,
    RARITIES,
    SHOWCASE_MAX,
    Award,
    Badge,
    Rule,
    RuleState,
)
from economy.badges.repo import EDITION, BadgeRepo, award_id
from economy.badges.rules import (
    FACTS_OF_SIGNAL,
    IMPLIED_BY_SIGNAL,
    STORED_FACTS,
    custom_key,
    rule_facts,
    rules_for,
    satisfied,
    shipped,
)
from economy.core.actor import Actor
from economy.core.clock import Clock, to_ms
from economy.core.errors import (
    AlreadyRecorded,
    Conflict,
    InvalidInput,
    NotFound,
)
from economy.core.ledger import LedgerService
from economy.core.models import is_system
from economy.core.modules import is_on, require_on
from economy.core.settings import SettingsService
from economy.core.text import clean_text, visible_length
from economy.repos.slot_repo import SlotHeld, SlotsBusy, SlotsFull

CUSTOM_EMOJI = re.compile(r"<a?:\w{2,32}:\d{15,21}>")
#: Members one backfill page looks at.
BACKFILL_PAGE = 200
REASON_MAX = 200


class SoldOut(Conflict):
    """Every edition of a limited badge is held."""


class AlreadyHeld(Conflict):
    """The member holds that badge already."""


def check_emoji(value: str) -> str:
    """A Unicode emoji (no letters, digits or spaces) or a server emoji `<:name:id>`."""
    emoji = (value or "").strip()
    if CUSTOM_EMOJI.fullmatch(emoji) or (
            0 < len(emoji) <= 16 and not any(ch.isascii() or ch.isspace() for ch in emoji)):
        return emoji
    raise InvalidInput("The emoji must be one emoji (like 🏅) or a server emoji (`<:name:id>`).")


def _reason(reason: str | None) -> str:
    text = clean_text(reason, REASON_MAX, "reason") or ""
    if visible_length(text) < 3:
        raise InvalidInput("Please give a reason (at least 3 characters); it is recorded.")
    return text


class BadgeService:
    """The badges of every server."""

    def __init__(self, repo: BadgeRepo, ledger: LedgerService, settings: SettingsService,
                 clock: Clock) -> None:
        self._repo = repo
        self._ledger = ledger
        self._settings = settings
        self._clock = clock
        # Per (guild, badge): members taking a numbered edition in this process take turns.
        self._turns: dict[tuple[int, str], asyncio.Lock] = {}

    # --- the catalogue -----------------------------------------------------------------------
    async def catalogue(self, guild_id: int) -> dict[str, Badge]:
        """Every badge of a server: the shipped ones, then its own. Raises: nothing expected."""
        found = dict(shipped())
        for doc in await self._repo.custom(guild_id):
            badge = _custom_badge(doc)
            found[badge.key] = badge
        return found

    async def badge(self, guild_id: int, key: str) -> Badge:
        """One badge by key (NotFound when the server has none by that key). Raises: InvalidInput, NotFound."""
        badge = (await self.catalogue(guild_id)).get((key or "").strip().lower())
        if badge is None:
            raise NotFound(f"There is no badge `{clean_text(key, 40, 'badge') or '?'}` here. "
                           "`/badge list` shows the badges.")
        return badge

    async def create(self, guild_id: int, actor: Actor, *, name: str, description: str,
                     emoji: str, rarity: str, supply: int | None = None,
                     rule: str | None = None, at_least: int | None = None,
                     tradeable: bool = False) -> Badge:
        """Admin: a server's own badge, given by staff (`give`) or, with a `rule` (a fact and
        `at_least`), awarded automatically like the shipped ones; optionally a limited edition
        (numbered 1..supply). `tradeable`: its editions are collectibles members sell on the
        marketplace (a numbered limited edition given by staff, so it needs a supply and no
        rule: a rule would award a seller a new one after each sale); soulbound otherwise.
        Raises: FeatureOff, InvalidInput, NotPermitted."""
        await require_on(self._settings, guild_id, "badges")
        actor.require_admin(guild_id, "Only server admins can create badges.")
        actor_id = actor.user_id
        if (rule is None) != (at_least is None):
            raise InvalidInput("An automatic badge needs both a rule and `at_least`.")
        if tradeable and (supply is None or rule is not None):
            raise InvalidInput("A tradeable badge is a numbered limited edition given by staff: "
                               "give it a supply and no rule.")
        if rule is not None and rule not in rule_facts():
            raise InvalidInput(f"A rule counts one of: {', '.join(rule_facts())}.")
        if at_least is not None and not 1 <= at_least <= 10**12:
            raise InvalidInput("`at_least` is 1 or more.")
        name = clean_text(name, 40, "name") or ""
        description = clean_text(description, 200, "description") or ""
        if visible_length(name) < 2 or visible_length(description) < 3:
            raise InvalidInput("A badge needs a name (2-40 characters) and a description.")
        if rarity not in RARITIES:
            raise InvalidInput(f"Rarity is one of: {', '.join(RARITIES)}.")
        if supply is not None and not 1 <= supply <= 100_000:
            raise InvalidInput("A limited edition has a supply of 1 to 100,000.")
        emoji = check_emoji(emoji)
        existing = await self._repo.custom(guild_id)
        if any(doc["name"].lower() == name.lower() for doc in existing) or any(
                b.name.lower() == name.lower() for b in shipped().values()):
            raise InvalidInput(f"A badge named “{name}” exists already.")
        if len(existing) >= CUSTOM_MAX:
            raise InvalidInput(f"A server has at most {CUSTOM_MAX} badges of its own.")
        no = max((int(doc["no"]) for doc in existing), default=0) + 1
        for _ in range(5):  # a concurrent create took the number: take the next
            doc = {"_id": f"{guild_id}:{custom_key(no)}", "guild_id": guild_id, "no": no,
                   "key": custom_key(no), "name": name, "description": description,
                   "emoji": emoji, "rarity": rarity, "supply": supply, "created_by": actor_id,
                   "created_ms": to_ms(self._clock.now()),
                   "rule": {"fact": rule, "at_least": at_least} if rule else None,
                   "tradeable": bool(tradeable)}
            if await self._repo.insert_custom(doc):
                return _custom_badge(doc)
            no += 1
        raise InvalidInput("Badges are being created quickly right now; please try again.")

    # --- rules -------------------------------------------------------------------------------
    async def rule_states(self, guild_id: int, catalogue: dict[str, Badge] | None = None
                          ) -> dict[str, RuleState]:
        """Every automatic badge's state in a server (on, with the default reward, unless set). Raises: nothing expected."""
        stored = {doc["badge"]: doc for doc in await self._repo.rule_states(guild_id)}
        states = {}
        catalogue = catalogue if catalogue is not None else await self.catalogue(guild_id)
        automatic = [key for key, badge in catalogue.items() if badge.rule is not None]
        for key in automatic:
            doc = stored.get(key)
            states[key] = RuleState(key=key, enabled=(doc or {}).get("state", "on") == "on",
                                    reward=(doc or {}).get("reward"),
                                    role_id=(doc or {}).get("role_id"))
        return states

    async def set_rule(self, guild_id: int, actor: Actor, key: str, *, enabled: bool,
                       reward: int | None, role_id: int | None = None) -> RuleState:
        """Admin: switch an automatic badge's rule on or off and set the GEMS it pays and the
        role it gives (the bot gives it; None: no role). Raises: InvalidInput, NotFound, NotPermitted."""
        actor.require_admin(guild_id, "Only server admins can change badge rules.")
        actor_id = actor.user_id
        badge = await self.badge(guild_id, key)
        if badge.rule is None:
            raise InvalidInput(f"{badge.name} has no rule: staff give it with `/badge-admin give`.")
        if reward is not None and not 0 <= reward <= 1_000_000:
            raise InvalidInput("A badge reward is 0 to 1,000,000 GEMS.")
        await self._repo.set_rule(guild_id, badge.key, state="on" if enabled else "off",
                                  reward=reward, role_id=role_id, by=actor_id,
                                  at_ms=to_ms(self._clock.now()))
        return RuleState(key=badge.key, enabled=enabled, reward=reward, role_id=role_id)

    # --- awarding ----------------------------------------------------------------------------
    async def on_signal(self, signal: str, guild_id: int, user_ids: tuple[int, ...]) -> None:
        """Listener (economy/core/signals.py): award the badges whose rules the action met. Raises: InvalidInput."""
        if signal not in FACTS_OF_SIGNAL:
            return
        catalogue = await self.catalogue(guild_id)
        candidates = rules_for(signal, catalogue)
        if not candidates:
            return
        settings = await self._settings.get(guild_id)
        if not is_on(settings, "badges"):
            return
        states = await self.rule_states(guild_id, catalogue)
        candidates = [b for b in candidates if states[b.key].enabled]
        implied = IMPLIED_BY_SIGNAL.get(signal, {})
        for user_id in dict.fromkeys(user_ids):
            if not is_system(user_id):
                await self.evaluate(guild_id, user_id, candidates, states,
                                    settings.badge_reward_default, implied=implied)

    async def evaluate(self, guild_id: int, user_id: int, candidates: list[Badge],
                       states: dict[str, RuleState], default_reward: int, *,
                       implied: dict[str, int] | None = None) -> list[Award]:
        """Award `user_id` every candidate badge whose rule is met and that they lack
        (`implied`: counts the signal itself proves; a sold-out limited edition is skipped).
        Raises: InvalidInput."""
        held = {doc["badge"] for doc in await self._repo.held(guild_id, user_id)}
        counts: dict[str, int] = dict(implied or {})
        awarded = []
        for badge in candidates:
            if badge.key in held or badge.rule is None:
                continue
            fact = badge.rule.fact
            if fact not in counts:
                counts[fact] = await self._repo.fact(guild_id, user_id, fact)
            if not satisfied(badge, counts):
                continue
            reward = states[badge.key].reward
            try:
                award = await self._award(guild_id, badge, user_id,
                                          reward=default_reward if reward is None else reward,
                                          role_id=states[badge.key].role_id)
            except SoldOut:  # a limited edition all held: the rule awards it no more
                continue
            if award is not None:
                awarded.append(award)
        return awarded

    async def pending_roles(self, guild_id: int, limit: int = 100) -> list[Award]:
        """Awards whose role the bot has still to give. Raises: nothing expected."""
        catalogue = await self.catalogue(guild_id)
        return [_award_of(doc, catalogue[doc["badge"]])
                for doc in await self._repo.pending_roles(guild_id, limit)
                if doc["badge"] in catalogue]

    async def role_done(self, guild_id: int, award: Award, *, given: bool) -> bool:
        """Record that the bot gave an award's role (or could not: `given` False), once.
        Raises: nothing expected."""
        return await self._repo.finish_role(
            award.award_id or award_id(guild_id, award.badge.key, award.user_id),
            "given" if given else "failed")

    async def backfill_page(self, guild_id: int, *, page: int = BACKFILL_PAGE) -> int:
        """One bounded page of the backfill: members who met an enabled rule before it (or the
        feature) was switched on get their badges now, `page` members at a time, from the
        history the rules count. The cursor restarts when the feature comes back on or the set
        of enabled rules changes; awarding is idempotent, so two processes at once are safe.
        Returns how many members this page looked at (0: nothing to do).

        Raises: InvalidInput."""
        settings = await self._settings.get(guild_id)
        now_ms = to_ms(self._clock.now())
        seen = await self._repo.backfill(guild_id)
        if not is_on(settings, "badges"):  # parked: switching the feature on starts it again
            if seen is None or seen.get("state") != "off":
                await self._repo.start_backfill(guild_id, seen, rules_key=None, state="off",
                                                at_ms=now_ms)
            return 0
        catalogue = await self.catalogue(guild_id)
        states = await self.rule_states(guild_id, catalogue)
        candidates = [b for b in catalogue.values() if b.rule is not None
                      and b.rule.fact in STORED_FACTS and states[b.key].enabled]
        rules_key = ",".join(sorted(b.key for b in candidates))
        if seen is None or seen.get("rules_key") != rules_key or seen.get("state") == "off":
            if not await self._repo.start_backfill(guild_id, seen, rules_key=rules_key,
                                                   state="running", at_ms=now_ms):
                return 0  # another process (re)started it just now
            seen = await self._repo.backfill(guild_id)
        if seen is None or seen.get("state") == "done" or not candidates:
            return 0
        members = await self._repo.member_page(guild_id, int(seen.get("after") or 0), page)
        for user_id in members:
            if not is_system(user_id):
                await self.evaluate(guild_id, user_id, candidates, states,
                                    settings.badge_reward_default)
        await self._repo.advance_backfill(guild_id, seen, after=members[-1] if members else 0,
                                          done=len(members) < page, at_ms=now_ms)
        return len(members)

    async def give(self, guild_id: int, actor: Actor, key: str, user_id: int, *,
                   reason: str) -> Award:
        """Admin: give a member a badge, with a recorded reason (no GEMS reward). Raises: AlreadyHeld, FeatureOff, InvalidInput, NotFound, NotPermitted, SoldOut."""
        await require_on(self._settings, guild_id, "badges")
        actor.require_admin(guild_id, "Only server admins can give badges.")
        actor_id = actor.user_id
        if is_system(user_id):
            raise InvalidInput("Badges go to members.")
        reason = _reason(reason)
        badge = await self.badge(guild_id, key)
        log = {"guild_id": guild_id, "user_id": user_id, "badge": badge.key, "action": "give",
               "actor_id": actor_id, "reason": reason, "at_ms": to_ms(self._clock.now())}
        award = await self._award(guild_id, badge, user_id, reward=0, by=actor_id,
                                  reason=reason, log=log)
        if award is None:
            raise AlreadyHeld(f"<@{user_id}> holds {badge.emoji} {badge.name} already.")
        return award

    async def revoke(self, guild_id: int, actor: Actor, key: str, user_id: int, *,
                     reason: str) -> Badge:
        """Admin: take a badge back, with a recorded reason (a reward paid stays paid; a
        limited edition's place is freed). A collectible on an open listing (or in its trade)
        is refused: the listing ends first. Raises: Conflict, FeatureOff, InvalidInput,
        NotFound, NotPermitted."""
        await require_on(self._settings, guild_id, "badges")
        actor.require_admin(guild_id, "Only server admins can revoke badges.")
        actor_id = actor.user_id
        reason = _reason(reason)
        badge = await self.badge(guild_id, key)
        log = {"guild_id": guild_id, "user_id": user_id, "badge": badge.key, "action": "revoke",
               "actor_id": actor_id, "reason": reason, "at_ms": to_ms(self._clock.now())}
        repo = self._repo
        owned = await repo.held_of(guild_id, user_id, badge.key)
        if not owned:
            raise InvalidInput(f"<@{user_id}> does not hold {badge.emoji} {badge.name}.")
        doc = owned[0]
        listing = await open_listing(repo, guild_id, doc)
        if listing is not None:
            # Listed or held in a trade: the buyer may have paid for it. Staff end the listing
            # (or resolve the trade) first, so escrow never settles an edition that is gone.
            raise Conflict(f"{badge.emoji} {badge.name} #{doc.get('serial')} is on listing "
                           f"#{listing}: remove the listing (or resolve its trade) first.")

        async def work(session: Any) -> bool:
            if not await repo.delete_award(guild_id, doc, session=session):
                return False
            await repo.write_log(dict(log), session=session)
            return True

        if not await repo.transaction(work):
            raise Conflict(f"{badge.emoji} {badge.name} changed meanwhile; please try again.")
        return badge

    async def _award(self, guild_id: int, badge: Badge, user_id: int, *, reward: int,
                     by: int | None = None, reason: str | None = None,
                     log: dict | None = None, role_id: int | None = None) -> Award | None:
        """Record the award (and its edition place, its log line and its reward) at once;
        None when the member holds it already. SoldOut when a limited edition is gone."""
        repo = self._repo
        at_ms = to_ms(self._clock.now())

        def write(serial: int | None):
            async def work(session: Any) -> None:
                if serial is not None:
                    await repo.slots.take(guild_id, EDITION, int(badge.no or 0), serial,
                                          f"{badge.key}:{user_id}", session=session)
                await repo.insert_award(
                    {"_id": award_id(guild_id, badge.key, user_id), "guild_id": guild_id,
                     "user_id": user_id, "badge": badge.key, "at_ms": at_ms, "serial": serial,
                     "edition": badge.no if serial is not None else None,
                     "by": by, "reason": reason, "reward": reward, "role_id": role_id,
                     "role_state": "pending" if role_id else None}, session=session)
                if log is not None:
                    await repo.write_log(dict(log), session=session)
            return work

        async def attempt(serial: int | None) -> None:
            if reward > 0:
                movement = await self._ledger.earn(
                    guild_id, user_id, reward, key=f"badge:{badge.key}:{user_id}",
                    kind="reward", source="reward", ref=f"badge:{badge.key}",
                    also=write(serial))
                if not movement.replayed:
                    return
                # Paid before (the badge was revoked and is earned again): award, no payment.
            await repo.transaction(write(serial))

        try:
            if badge.supply is None:
                await attempt(None)
            else:
                # Members qualifying for one limited badge in this process take turns: each
                # plans its edition after the previous award committed. Without turns a
                # crowd (a backfill page, a burst of signals) planned the same edition and all
                # but one retried, round after round. Only an optimisation: other processes
                # still race, and the unique edition place decides (a lost one is planned again).
                async with self._turns.setdefault((guild_id, badge.key), asyncio.Lock()):
                    await repo.slots.retrying(guild_id, EDITION, int(badge.no or 0),
                                              badge.supply, attempt, ref=f"{badge.key}:{user_id}")
        except (AlreadyRecorded, SlotHeld):  # held already (perhaps awarded just now, concurrently)
            return None
        except SlotsFull:
            raise SoldOut(f"{badge.emoji} {badge.name} is sold out: all {badge.supply:,} "
                          "editions are held.") from None
        except SlotsBusy:
            raise InvalidInput("Many members are getting this badge right now; "
                               "please try again.") from None
        doc = await repo.award(guild_id, badge.key, user_id)
        return _award_of(doc, badge) if doc else None

    # --- members' views ----------------------------------------------------------------------
    async def awards(self, guild_id: int, user_id: int) -> list[Award]:
        """A member's badges, oldest first. Raises: nothing expected."""
        catalogue = await self.catalogue(guild_id)
        return [_award_of(doc, catalogue[doc["badge"]])
                for doc in await self._repo.held(guild_id, user_id) if doc["badge"] in catalogue]

    async def supply_left(self, guild_id: int, badge: Badge) -> int | None:
        """Editions of a limited badge still free (None: unlimited). Raises: nothing expected."""
        if badge.supply is None:
            return None
        return max(0, badge.supply - await self._repo.holders(guild_id, badge.key))

    async def set_showcase(self, guild_id: int, user_id: int, keys: list[str]) -> list[Award]:
        """Pin up to SHOWCASE_MAX of one's own badges on the profile (an empty list unpins). Raises: FeatureOff, InvalidInput."""
        await require_on(self._settings, guild_id, "badges")
        wanted = list(dict.fromkeys(k.strip().lower() for k in keys if k and k.strip()))
        if len(wanted) > SHOWCASE_MAX:
            raise InvalidInput(f"Pin at most {SHOWCASE_MAX} badges.")
        own = {a.badge.key: a for a in await self.awards(guild_id, user_id)}
        missing = [k for k in wanted if k not in own]
        if missing:
            raise InvalidInput(f"You don't hold `{clean_text(missing[0], 40, 'badge')}`: "
                               "`/badge list` shows your badges.")
        await self._repo.set_showcase(guild_id, user_id, wanted, to_ms(self._clock.now()))
        return [own[k] for k in wanted]

    async def showcase(self, guild_id: int, user_id: int) -> list[Award]:
        """A member's pinned badges that they still hold, in order. Raises: nothing expected."""
        return (await self.held_and_showcase(guild_id, user_id))[1]

    async def held_and_showcase(self, guild_id: int,
                                user_id: int) -> tuple[list[Award], list[Award]]:
        """A member's badges and, of them, the pinned ones in order (one read of each).
        Raises: nothing expected."""
        awards, pinned = await asyncio.gather(self.awards(guild_id, user_id),
                                              self._repo.showcase(guild_id, user_id))
        own = {a.badge.key: a for a in awards}
        return awards, [own[k] for k in pinned if k in own]


def _custom_badge(doc: dict) -> Badge:
    rule = doc.get("rule")
    return Badge(key=doc["key"], name=doc["name"], description=doc["description"],
                 emoji=doc["emoji"], rarity=doc["rarity"], supply=doc.get("supply"),
                 no=int(doc["no"]), rule=Rule(**rule) if rule else None,
                 tradeable=bool(doc.get("tradeable")))


def _award_of(doc: dict, badge: Badge) -> Award:
    return Award(badge=badge, user_id=doc["user_id"], at_ms=int(doc["at_ms"]),
                 serial=doc.get("serial"), award_id=str(doc["_id"]), by=doc.get("by"), reason=doc.get("reason"),
                 reward=int(doc.get("reward") or 0), role_id=doc.get("role_id"),
                 role_state=doc.get("role_state"))
