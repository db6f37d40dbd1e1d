"""NFT-holder roles: rules, reading a guild's holdings at one block, and the role diff.

A rule grants a role to members whose linked wallets hold, together, between `min_count` and
`max_count` tokens of a contract (ERC-721, optionally only some token ids; ERC-1155, listed token
ids). Several rules for one role are alternatives (any-of); rules sharing a `group` name must all
hold for that alternative (all-of).

Every answer is three-valued: True, False or None (unknown: the node failed, timed out, returned
garbage, or the address had no code). A role is only removed on a definite False, never on None.
The whole guild's diff is computed first; the Discord adapter then applies only the changes.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from economy.core.actor import Actor
from economy.core.clock import Clock, span_ms, to_ms
from economy.core.errors import InvalidInput, NotFound
from economy.core.signals import NO_SIGNALS, Signals
from economy.core.wording import plural
from economy.nft.chain import NO_OWNER, ChainError, ChainMismatch, ChainReader, ChainRegistry
from economy.nft.repo import NftRepo, RulesFull
from economy.nft.wallet_repo import WalletRepo
from economy.nft.wallets import checksum

STANDARDS = {"erc721": "ERC-721", "erc1155": "ERC-1155"}
MAX_RULES = 25
MAX_IDS_721 = 5_000  # ownerOf reads per sync for one ERC-721 rule with token ids
MAX_IDS_1155 = 50  # balanceOf pairs per wallet for one ERC-1155 rule
Tri = bool | None
LINK_CHECK_SECONDS = 3.0  # the chain id check before a wallet link


def parse_token_ids(text: str | None) -> list[list[int]]:
    """`"1-100, 150, 200-210"` -> merged inclusive ranges [[1, 100], [150, 150], [200, 210]]."""
    if text is None or not text.strip():
        return []
    ranges: list[list[int]] = []
    for part in re.split(r"[\s,]+", text.strip()):
        match = re.fullmatch(r"(\d{1,30})(?:-(\d{1,30}))?", part)
        if not match:
            raise InvalidInput(f"`{part[:40]}` is not a token id or range (use e.g. 1-100, 150).")
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) else low
        if high < low or high >= 2**256:
            raise InvalidInput(f"`{part[:40]}` is not a valid range.")
        ranges.append([low, high])
    ranges.sort()
    merged: list[list[int]] = []
    for low, high in ranges:
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return merged


def token_count(ranges: list[list[int]]) -> int:
    """How many ids the ranges cover."""
    return sum(high - low + 1 for low, high in ranges)


def expand(ranges: list[list[int]]) -> list[int]:
    """Every id the ranges cover (callers bound the size first)."""
    return [tid for low, high in ranges for tid in range(low, high + 1)]


def format_ranges(ranges: list[list[int]]) -> str:
    """`1-100, 150`."""
    return ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges) or "any"


@dataclass(frozen=True)
class Rule:
    """One ownership rule."""

    guild_id: int
    rule_id: int
    role_id: int
    chain_id: int
    contract: str
    standard: str
    ranges: tuple[tuple[int, int], ...]
    min_count: int
    max_count: int | None
    group: str | None

    @classmethod
    def from_doc(cls, doc: dict) -> Rule:
        """A rule from its stored document."""
        return cls(doc["guild_id"], doc["rule_id"], doc["role_id"], doc["chain_id"],
                   doc["contract"], doc["standard"],
                   tuple((int(lo), int(hi)) for lo, hi in doc.get("ranges", [])),
                   doc["min_count"], doc.get("max_count"), doc.get("group"))

    def describe(self) -> str:
        """One line: `#2 ERC-721 0xAbC…123 (chain 1) ids 1-100, holds ≥ 1 → role`."""
        count = f"≥ {self.min_count}" if self.max_count is None else \
            f"{self.min_count}–{self.max_count}"
        ids = f" ids {format_ranges([list(r) for r in self.ranges])}" if self.ranges else ""
        group = f" [all of `{self.group}`]" if self.group else ""
        return (f"#{self.rule_id} {STANDARDS[self.standard]} `{self.contract}` (chain "
                f"{self.chain_id}){ids}, holds {count} → <@&{self.role_id}>{group}")


def judge(count: int, unknown: bool, rule: Rule) -> Tri:
    """Does a holding of `count` (plus unknown amounts when `unknown`) satisfy the rule?"""
    too_many = rule.max_count is not None and count > rule.max_count
    if too_many:
        return False
    if not unknown:
        return count >= rule.min_count
    if count >= rule.min_count and rule.max_count is None:
        return True  # unknown tokens could only add to an already sufficient holding
    return None


def all_of(values: Iterable[Tri]) -> Tri:
    """Three-valued AND."""
    values = list(values)
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def any_of(values: Iterable[Tri]) -> Tri:
    """Three-valued OR."""
    values = list(values)
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


@dataclass(frozen=True)
class RoleChange:
    """Give (`add`) or take a role."""

    user_id: int
    role_id: int
    add: bool


@dataclass
class Holding:
    """A member's count for one rule, and whether some of it is unknown."""

    count: int = 0
    unknown: bool = False


@dataclass
class SyncPlan:
    """Everything one sync read and decided, before anything is applied."""

    blocks: dict[int, int] = field(default_factory=dict)
    wallets: int = 0
    rpc_calls: int = 0
    errors: list[str] = field(default_factory=list)
    holdings: dict[int, dict[int, Holding]] = field(default_factory=dict)  # user -> rule -> …
    statuses: dict[int, dict[int, Tri]] = field(default_factory=dict)  # user -> role -> …
    changes: list[RoleChange] = field(default_factory=list)
    unknown: int = 0  # (member, role) pairs left alone because the answer was unknown


@dataclass
class ApplyResult:
    """What the Discord adapter did with a plan."""

    added: int = 0
    removed: int = 0
    failed: int = 0
    problems: dict[str, str] = field(default_factory=dict)  # key -> text (role hierarchy …)


@dataclass
class GalleryEntry:
    """A member's holding of one collection: token ids (with amounts) when known, else a count."""

    chain_id: int
    contract: str
    standard: str
    tokens: list[tuple[int, int]] = field(default_factory=list)
    count: int = 0
    unknown: bool = False


@dataclass
class TransferScan:
    """Members touched by Transfer logs since the last scan, and where the scan got to."""

    version: int | None
    cursors: dict[str, int]
    users: set[int] = field(default_factory=set)
    ranges: int = 0
    errors: list[str] = field(default_factory=list)


def role_statuses(rules: list[Rule], holdings: dict[int, Holding]) -> dict[int, Tri]:
    """Role -> granted? for one member: any-of over ungrouped rules and all-of groups."""
    by_role: dict[int, list[Rule]] = defaultdict(list)
    for rule in rules:
        by_role[rule.role_id].append(rule)
    out: dict[int, Tri] = {}
    for role_id, role_rules in by_role.items():
        alternatives: list[Tri] = []
        groups: dict[str, list[Tri]] = defaultdict(list)
        for rule in role_rules:
            h = holdings.get(rule.rule_id, Holding())
            verdict = judge(h.count, h.unknown, rule)
            if rule.group:
                groups[rule.group].append(verdict)
            else:
                alternatives.append(verdict)
        alternatives += [all_of(values) for values in groups.values()]
        out[role_id] = any_of(alternatives)
    return out


def diff(statuses: dict[int, dict[int, Tri]], current: dict[int, set[int]],
         managed: set[int]) -> tuple[list[RoleChange], int]:
    """The role changes that make `current` match `statuses`; unknown never removes.

    `current` holds every member to consider (user -> role ids they have now).
    Returns (changes, how many member/role pairs were left alone as unknown).
    """
    changes: list[RoleChange] = []
    unknown = 0
    for user_id, has in current.items():
        wanted = statuses.get(user_id, {})
        for role_id in sorted(managed):
            status = wanted.get(role_id, False)
            if status is None:
                unknown += 1
            elif status and role_id not in has:
                changes.append(RoleChange(user_id, role_id, True))
            elif not status and role_id in has:
                changes.append(RoleChange(user_id, role_id, False))
    return changes, unknown


class NftService:
    """Rules, holdings and role plans for NFT-holder roles."""

    def __init__(self, repo: NftRepo, wallets: WalletRepo, chains: ChainRegistry,
                 clock: Clock, *, signals: Signals = NO_SIGNALS) -> None:
        self._signals = signals
        self._repo = repo
        self._wallets = wallets
        self.chains = chains
        self._clock = clock

    # --- rules ------------------------------------------------------------------------------

    async def rules(self, guild_id: int) -> list[Rule]:
        """A guild's rules.

        Raises: nothing expected.
        """
        return [Rule.from_doc(doc) for doc in await self._repo.rules_of(guild_id)]

    async def add_rule(self, guild_id: int, actor: Actor, *, chain_id: int, contract: str,
                       standard: str, role_id: int, token_ids: str | None = None,
                       min_count: int = 1, max_count: int | None = None,
                       group: str | None = None) -> Rule:
        """Validate and store a rule (admins of the guild). The contract must have code on
        that chain.

        Raises: NotPermitted (not an admin of the guild), InvalidInput.
        """
        actor.require_admin(guild_id)
        actor_id = actor.user_id
        if standard not in STANDARDS:
            raise InvalidInput("The standard must be ERC-721 or ERC-1155.")
        address = checksum(contract)
        ranges = parse_token_ids(token_ids)
        if standard == "erc1155" and not ranges:
            raise InvalidInput("ERC-1155 rules need the token ids, e.g. `1` or `1-3`.")
        limit = MAX_IDS_1155 if standard == "erc1155" else MAX_IDS_721
        if token_count(ranges) > limit:
            raise InvalidInput(f"A {STANDARDS[standard]} rule can check at most {limit:,} token ids.")
        if min_count < 1 or (max_count is not None and max_count < min_count):
            raise InvalidInput("The minimum must be at least 1 and the maximum at least the minimum.")
        if group is not None and not re.fullmatch(r"[a-z0-9_-]{1,20}", group):
            raise InvalidInput("A group name is 1-20 lowercase letters, digits, - or _.")
        if len(await self._repo.rules_of(guild_id)) >= MAX_RULES:
            raise InvalidInput(f"A server can have at most {MAX_RULES} NFT rules.")
        reader = self.chains.for_sync(chain_id, self.chains.deadline())
        try:
            await self.chains.verify(reader)
            has_code = await reader.has_code(address)
        except ChainMismatch as exc:
            raise InvalidInput(
                f"The RPC endpoint this bot has for chain {chain_id} serves chain {exc.served}, "
                f"so chain {chain_id} cannot be read: ask the bot's operator to fix "
                "CHAIN_RPC_URLS. No rule was added.") from None
        except ChainError:
            raise InvalidInput(f"I couldn't reach the RPC endpoint of chain {chain_id}. "
                               "Try again later.") from None
        if not has_code:
            raise InvalidInput(f"`{address}` is not a contract on chain {chain_id}.")
        doc = {"guild_id": guild_id, "role_id": role_id, "chain_id": chain_id,
               "contract": address, "standard": standard, "ranges": ranges,
               "min_count": min_count, "max_count": max_count, "group": group,
               "created_by": actor_id, "created_ms": to_ms(self._clock.now())}
        try:
            rule_id = await self._repo.insert_rule(doc, cap=MAX_RULES)
        except RulesFull:
            raise InvalidInput(f"A server can have at most {MAX_RULES} NFT rules.") from None
        return Rule.from_doc(dict(doc, rule_id=rule_id))

    async def check_link_chain(self, chain_id: int) -> None:
        """Refuse wallet linking (InvalidInput) when the node of `chain_id` serves another chain.

        The signed message names `chain_id`; a wrong node must not make members sign for one
        chain while roles are read on another. An unreachable node does not stop linking (the
        signature needs no node) unless the last answer it gave was a mismatch.

        Raises: InvalidInput.
        """
        if chain_id not in self.chains.urls:
            return  # no node to disagree with (linking works without any chain configured)
        try:
            # A short budget: a hanging node must not hold the member's link page.
            deadline = self.chains.deadline(min(LINK_CHECK_SECONDS, self.chains.timeout))
            await self.chains.verify(self.chains.for_sync(chain_id, deadline))
        except ChainMismatch:
            pass
        except ChainError:
            if chain_id not in self.chains.mismatched:
                return
        else:
            return
        raise InvalidInput(
            f"Wallet linking is paused: the bot's RPC endpoint for chain {chain_id} serves "
            f"chain {self.chains.mismatched[chain_id]}. Ask the server's admins to tell the "
            "bot's operator (CHAIN_RPC_URLS).")

    async def check_chains(self) -> dict[int, ChainError | None]:
        """Ask every configured node its chain id (at start-up): chain -> the error, or None.

        Raises: InvalidInput.
        """
        return await self.chains.check_all()

    async def remove_rule(self, guild_id: int, actor: Actor, rule_id: int) -> Rule:
        """Delete a rule (admins; members keep roles until a sync decides otherwise).

        Raises: NotPermitted (not an admin of the guild), NotFound.
        """
        actor.require_admin(guild_id)
        doc = await self._repo.delete_rule(guild_id, rule_id)
        if doc is None:
            raise NotFound(f"There is no NFT rule #{rule_id}.")
        return Rule.from_doc(doc)

    # --- reading holdings --------------------------------------------------------------------

    async def plan(self, guild_id: int, current: dict[int, set[int]], *,
                   only_user: int | None = None) -> SyncPlan:
        """Read holdings at one block per chain and compute the role changes for `current`.

        `current` maps each member to consider to the roles they hold now (the adapter reads
        Discord). With `only_user`, only that member's wallets are read; a `current` of a few
        members (after Transfer logs) reads only theirs.

        Raises: nothing expected.
        """
        rules = await self.rules(guild_id)
        plan = SyncPlan()
        if not rules:
            return plan
        if only_user is not None:
            docs = await self._wallets.of_member(guild_id, only_user)
        elif len(current) <= 50:
            docs = [doc for user in current for doc in await self._wallets.of_member(guild_id, user)]
        else:
            docs = await self._wallets.of_guild(guild_id)
        wallets: dict[int, list[str]] = defaultdict(list)
        for doc in docs:
            if doc["user_id"] in current:
                wallets[doc["user_id"]].append(doc["address"])
        plan.wallets = sum(len(v) for v in wallets.values())
        plan.holdings = await self._read(rules, wallets, plan)
        plan.statuses = {user: role_statuses(rules, plan.holdings.get(user, {}))
                         for user in current}
        managed = {rule.role_id for rule in rules}
        plan.changes, plan.unknown = diff(plan.statuses, current, managed)
        return plan

    async def _read(self, rules: list[Rule], wallets: dict[int, list[str]], plan: SyncPlan
                    ) -> dict[int, dict[int, Holding]]:
        holdings: dict[int, dict[int, Holding]] = defaultdict(dict)
        owner_of = {addr: user for user, addrs in wallets.items() for addr in addrs}
        addresses = list(owner_of)
        by_chain: dict[int, list[Rule]] = defaultdict(list)
        for rule in rules:
            by_chain[rule.chain_id].append(rule)
        deadline = self.chains.deadline()  # one budget for every chain of this sync
        for chain_id, chain_rules in by_chain.items():
            reader: ChainReader | None = None
            try:
                reader = self.chains.for_sync(chain_id, deadline)
                await self.chains.verify(reader)  # a wrong node must not decide any role
                block = await reader.block_number()
            except (ChainError, InvalidInput) as exc:
                plan.rpc_calls += reader.rpc_calls if reader is not None else 0
                plan.errors.append(f"chain {chain_id}: {_chain_failure(chain_id, exc)}")
                for rule in chain_rules:
                    for user in wallets:
                        holdings[user][rule.rule_id] = Holding(0, True)
                continue
            plan.blocks[chain_id] = block
            if addresses:
                await self._read_chain(reader, block, chain_rules, wallets, owner_of,
                                       addresses, holdings, plan)
            plan.rpc_calls += reader.rpc_calls
            if reader.stopped:
                plan.errors.append(f"chain {chain_id}: the reads stopped early: {reader.stopped}")
        return holdings

    async def _read_chain(self, reader: ChainReader, block: int, rules: list[Rule],
                          wallets: dict[int, list[str]], owner_of: dict[str, int],
                          addresses: list[str], holdings: dict[int, dict[int, Holding]],
                          plan: SyncPlan) -> None:
        balances: dict[str, dict[str, int | None]] = {}  # contract -> address -> balance
        owners: dict[str, dict[int, str | None]] = {}  # contract -> token id -> owner
        pairs: dict[str, dict[tuple[str, int], int | None]] = {}  # ERC-1155 (address, id)
        for rule in rules:
            ids = expand([list(r) for r in rule.ranges])
            if rule.standard == "erc721" and not ids and rule.contract not in balances:
                balances[rule.contract] = await reader.erc721_balances(
                    rule.contract, addresses, block)
            elif rule.standard == "erc721" and ids:
                known = owners.setdefault(rule.contract, {})
                missing = [tid for tid in ids if tid not in known]
                if missing:
                    known.update(await reader.erc721_owners(rule.contract, missing, block))
            elif rule.standard == "erc1155":
                known_pairs = pairs.setdefault(rule.contract, {})
                wanted = [(a, tid) for a in addresses for tid in ids if (a, tid) not in known_pairs]
                if wanted:
                    known_pairs.update(await reader.erc1155_balances(rule.contract, wanted, block))
        for rule in rules:
            ids = expand([list(r) for r in rule.ranges])
            per_user: dict[int, Holding] = {user: Holding() for user in wallets}
            if rule.standard == "erc721" and not ids:
                for addr, value in balances[rule.contract].items():
                    _add(per_user[owner_of[addr]], value)
            elif rule.standard == "erc721":
                table = owners[rule.contract]
                any_unknown = any(table.get(tid) is None for tid in ids)
                for tid in ids:
                    owner = table.get(tid)
                    if owner and owner != NO_OWNER and owner in owner_of:
                        per_user[owner_of[owner]].count += 1
                if any_unknown:
                    for h in per_user.values():
                        h.unknown = True
            else:
                table = pairs[rule.contract]
                for addr in addresses:
                    for tid in ids:
                        _add(per_user[owner_of[addr]], table.get((addr, tid)))
            unknown = sum(h.unknown for h in per_user.values())
            if unknown:
                why = reader.problems.get(rule.contract, "no answer")
                plan.errors.append(f"rule #{rule.rule_id}: {plural(unknown, 'member')} unknown ({why}); "
                                   "their roles were left alone")
            for user, h in per_user.items():
                holdings[user][rule.rule_id] = h

    # --- gallery -----------------------------------------------------------------------------

    async def gallery(self, guild_id: int, user_id: int) -> list[GalleryEntry]:
        """What a member's linked wallets hold of each rule collection (token ids where the rules
        name them; a count otherwise), read at one block per chain.

        Raises: nothing expected.
        """
        addresses = [w["address"] for w in await self._wallets.of_member(guild_id, user_id)]
        rules = await self.rules(guild_id)
        collections: dict[tuple[int, str, str], set[int]] = {}
        counted: set[tuple[int, str, str]] = set()  # ERC-721 collections with an any-id rule
        for rule in rules:
            key = (rule.chain_id, rule.contract, rule.standard)
            collections.setdefault(key, set()).update(expand([list(r) for r in rule.ranges]))
            if not rule.ranges:
                counted.add(key)
        entries: list[GalleryEntry] = []
        blocks: dict[int, int] = {}
        readers: dict[int, ChainReader] = {}
        deadline = self.chains.deadline()
        for (chain_id, contract, standard), ids in collections.items():
            entry = GalleryEntry(chain_id, contract, standard)
            entries.append(entry)
            if not addresses:
                continue
            try:
                if chain_id not in readers:
                    readers[chain_id] = self.chains.for_sync(chain_id, deadline)
                    await self.chains.verify(readers[chain_id])
                    blocks[chain_id] = await readers[chain_id].block_number()
                elif chain_id not in blocks:
                    raise ChainError("this chain failed for an earlier collection")
                reader, block = readers[chain_id], blocks[chain_id]
            except (ChainError, InvalidInput):
                entry.unknown = True
                continue
            if standard == "erc1155":
                pairs = await reader.erc1155_balances(
                    contract, [(a, tid) for a in addresses for tid in sorted(ids)], block)
                held: dict[int, int] = defaultdict(int)
                for (_, tid), amount in pairs.items():
                    if amount is None:
                        entry.unknown = True
                    elif amount:
                        held[tid] += amount
                entry.tokens = sorted(held.items())
                entry.count = sum(held.values())
                continue
            if ids:
                owners = await reader.erc721_owners(contract, sorted(ids), block)
                entry.unknown = any(owner is None for owner in owners.values())
                entry.tokens = [(tid, 1) for tid, owner in sorted(owners.items())
                                if owner and owner in addresses]
                entry.count = len(entry.tokens)
            if (chain_id, contract, standard) in counted:
                # Without enumeration only the ids the rules name are known; the balance is
                # the whole holding.
                balances = await reader.erc721_balances(contract, addresses, block)
                entry.unknown = entry.unknown or any(v is None for v in balances.values())
                entry.count = max(entry.count, sum(v or 0 for v in balances.values()))
        return entries

    # --- following Transfer logs ---------------------------------------------------------------

    async def scan_transfers(self, guild_id: int, *, span: int = 2_000, max_ranges: int = 5
                             ) -> TransferScan:
        """Which members' wallets sent or received rule tokens since the last scan.

        Reads `eth_getLogs` from the block after each chain's cursor in ranges of `span` blocks
        (at most `max_ranges` per call, so a long outage catches up over several polls). The first
        scan only sets the cursor to the head: history is the full sync's job. A failed range stops
        that chain's scan; its cursor stays, so the range is read again next time.

        Raises: nothing expected.
        """
        rules = await self.rules(guild_id)
        doc = await self._repo.status(guild_id) or {}
        scan = TransferScan(version=doc.get("log_version"),
                            cursors=dict(doc.get("log_cursors") or {}))
        contracts: dict[int, list[str]] = defaultdict(list)
        for rule in rules:
            if rule.contract not in contracts[rule.chain_id]:
                contracts[rule.chain_id].append(rule.contract)
        parties: set[str] = set()
        deadline = self.chains.deadline()
        for chain_id, addresses in contracts.items():
            key = str(chain_id)
            try:
                reader = self.chains.for_sync(chain_id, deadline)
                await self.chains.verify(reader)  # logs of another chain would move nothing right
                head = await reader.block_number()
            except (ChainError, InvalidInput) as exc:
                scan.errors.append(f"chain {chain_id}: {_chain_failure(chain_id, exc)}")
                continue
            if key not in scan.cursors:
                scan.cursors[key] = head
                continue
            start = scan.cursors[key] + 1
            for _ in range(max_ranges):
                if start > head:
                    break
                end = min(head, start + span - 1)
                try:
                    parties |= await reader.transfer_parties(addresses, start, end)
                except ChainError as exc:
                    scan.errors.append(f"chain {chain_id} logs {start}-{end}: {exc}")
                    break
                scan.cursors[key] = end
                scan.ranges += 1
                start = end + 1
        scan.users = set((await self._wallets.owners_of(guild_id, parties)).values())
        return scan

    async def commit_scan(self, guild_id: int, scan: TransferScan) -> bool:
        """Move the log cursors after the affected members were re-checked.

        Raises: nothing expected.
        """
        return await self._repo.move_log_cursors(guild_id, scan.version, scan.cursors)

    # --- status ------------------------------------------------------------------------------

    async def record(self, guild_id: int, plan: SyncPlan, result: ApplyResult, *, scope: str,
                     started: float) -> dict:
        """Store the summary `/wallet-admin status` shows; returns it.

        Raises: nothing expected.
        """
        last = {
            "at_ms": to_ms(self._clock.now()), "scope": scope,
            "blocks": {str(k): v for k, v in plan.blocks.items()}, "wallets": plan.wallets,
            "added": result.added, "removed": result.removed, "failed": result.failed,
            "unknown": plan.unknown, "rpc_calls": plan.rpc_calls,
            "errors": plan.errors[:10], "problems": list(result.problems.values())[:10],
            "seconds": round(time.perf_counter() - started, 3),
        }
        await self._repo.record_sync(guild_id, last)
        granted = sorted({c.user_id for c in plan.changes if c.add})
        if granted:  # members the sync found holding a rule's tokens (badges listen)
            await self._signals.send("nft_role_granted", guild_id, *granted)
        return last

    async def status(self, guild_id: int) -> dict | None:
        """The latest sync summary and when the next periodic sync is due.

        Raises: nothing expected.
        """
        doc = await self._repo.status(guild_id)
        problems = await self._repo.open_problems(guild_id)
        if doc is None and not problems:
            return None
        return {"last": (doc or {}).get("last"), "next_due_ms": (doc or {}).get("next_due_ms"),
                "problems": [p["text"] for p in problems]}

    async def first_report(self, guild_id: int, key: str, text: str) -> bool:
        """True the first time a problem is seen (report it then, and only then).

        Raises: nothing expected.
        """
        return await self._repo.first_report(guild_id, key, text)

    async def clear_problem(self, guild_id: int, key: str) -> None:
        """A problem went away.

        Raises: nothing expected.
        """
        await self._repo.clear_problem(guild_id, key)

    async def claim_periodic(self, guild_id: int, every_minutes: int) -> bool:
        """True when this process should run the guild's periodic sync now (claimed once).

        Raises: nothing expected.
        """
        doc = await self._repo.status(guild_id)
        now = to_ms(self._clock.now())
        seen = doc.get("next_due_ms") if doc else None
        if seen is not None and seen > now:
            return False
        return await self._repo.claim_due(guild_id, seen, now + span_ms(timedelta(minutes=every_minutes)))


def _chain_failure(chain_id: int, exc: Exception) -> str:
    """Why a chain could not be read at all, in words for `/wallet-admin status`."""
    if isinstance(exc, InvalidInput):
        return exc.message
    if isinstance(exc, ChainMismatch):
        return f"{exc}; roles that depend on it were left alone"
    return (f"the RPC endpoint of chain {chain_id} failed: {exc}; roles that depend on it were "
            "left alone")


def _add(holding: Holding, value: int | None) -> None:
    if value is None:
        holding.unknown = True
    else:
        holding.count += value
