"""Minting another bot's balances into a guild, through the ledger, once per file.

Every member's balance is one ledger `grant` (Actor.system(): a mint, so the audit's supply stays
mints - burns) under the key `import:<sha256 of the file>:<member>`. So running the same file
again mints nothing (each key answers its first result), a run that stopped half way finishes
when run again, and a different file (even an edited copy of the same export) is a new import.

Order of the checks, before anything is written: the whole file is read and any problem refuses
it all (nothing imported); a guild where members already hold GEMS needs `merge` (the imported
amounts are added on top), unless this very file was (partly) imported before; `dry_run` stops
there and tells what each member would get.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

from economy.core.actor import Actor
from economy.core.errors import Conflict, InvalidInput
from economy.core.ledger import LedgerService
from economy.currency.importing.parse import SOURCES, Parsed, Problem, Row, parse
from economy.repos.ledger_repo import LedgerRepo

#: Grants sent to the ledger at once (its writer commits them in batches).
CHUNK = 256


class ImportRefused(InvalidInput):
    """The file cannot be imported; `problems` says where and why (nothing was imported)."""

    def __init__(self, message: str, problems: tuple[Problem, ...]) -> None:
        super().__init__(message)
        self.problems = problems


class NeedsMerge(Conflict):
    """The guild already has balances and the admin did not ask to add to them."""


@dataclass(frozen=True)
class MemberImport:
    """One member's part of an import: `status` is `minted`, `would mint` or `already imported`."""

    row: Row
    status: str


@dataclass(frozen=True)
class ImportReport:
    """What an import did (or, for a dry run, would do)."""

    source: str
    digest: str
    guild_id: int
    members: tuple[MemberImport, ...]
    left_out: tuple[Problem, ...]
    dry_run: bool

    @property
    def minted(self) -> int:
        """GEMS minted by this run (or to be minted, for a dry run)."""
        return sum(m.row.amount for m in self.members if m.status in ("minted", "would mint"))

    @property
    def new_members(self) -> int:
        """Members paid by this run (or to be paid)."""
        return sum(m.status in ("minted", "would mint") for m in self.members)

    @property
    def already(self) -> int:
        """Members this file had paid before."""
        return sum(m.status == "already imported" for m in self.members)

    @property
    def total(self) -> int:
        """GEMS the whole file stands for."""
        return sum(m.row.amount for m in self.members)


def file_digest(data: bytes) -> str:
    """The sha256 of the file's bytes (hex): the file's identity in the idempotency keys."""
    return hashlib.sha256(data).hexdigest()


def import_key(digest: str, user_id: int) -> str:
    """The idempotency key of one member's grant from one file."""
    return f"import:{digest}:{user_id}"


def checked_file(source: str, data: bytes, guild_id: int) -> Parsed:
    """The file's rows, or ImportRefused listing every problem (InvalidInput for an unknown
    source). Callers may check a file before opening the store; `run` checks it again."""
    if source not in SOURCES:
        raise InvalidInput(f"Unknown source {source!r}: one of {', '.join(SOURCES)}.")
    parsed = parse(source, data, guild_id)
    if parsed.problems:
        count = len(parsed.problems)
        raise ImportRefused(f"The {SOURCES[source]} file has {count} problem"
                            f"{'s' if count > 1 else ''}; nothing was imported.",
                            parsed.problems)
    return parsed


class EconomyImportService:
    """Imports balances exported by another bot (see the module docstring)."""

    def __init__(self, ledger: LedgerService, repo: LedgerRepo) -> None:
        self._ledger = ledger
        self._repo = repo

    async def run(self, guild_id: int, actor: Actor, source: str, data: bytes, *,
                  merge: bool = False, dry_run: bool = False) -> ImportReport:
        """Import `data` (a file exported by `source`: `unbelievaboat` or `red`) into the
        guild; `dry_run` changes nothing and reports what would be minted.

        Raises: ImportRefused (a bad file: its problems, nothing imported), NeedsMerge (members
            hold GEMS already and `merge` is off), InvalidInput (unknown source), NotPermitted,
            OutcomeUnknown.
        """
        actor.require_admin(guild_id)
        parsed = checked_file(source, data, guild_id)
        digest = file_digest(data)
        keys = [import_key(digest, row.user_id) for row in parsed.rows]
        done = await self._repo.recorded_keys(guild_id, keys)
        if not done and not merge and parsed.rows and await self._repo.has_member_balances(guild_id):
            raise NeedsMerge(
                f"Members of server {guild_id} already hold GEMS, so this import would add to "
                "their balances. Run it again with --merge to add the imported amounts on top "
                "(or reset the server's balances first). Nothing was imported.")
        pending = [row for row, key in zip(parsed.rows, keys, strict=True) if key not in done]
        if dry_run:
            statuses = {row.user_id: "would mint" for row in pending}
        else:
            statuses = await self._mint(guild_id, source, digest, pending)
        members = tuple(MemberImport(row, statuses.get(row.user_id, "already imported"))
                        for row in parsed.rows)
        return ImportReport(source=source, digest=digest, guild_id=guild_id, members=members,
                            left_out=parsed.left_out, dry_run=dry_run)

    async def _mint(self, guild_id: int, source: str, digest: str,
                    rows: list[Row]) -> dict[int, str]:
        system = Actor.system()
        reason = f"imported from {SOURCES[source]} (file {digest[:12]})"
        statuses: dict[int, str] = {}
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start:start + CHUNK]
            movements = await asyncio.gather(*(
                self._ledger.grant(guild_id, system, row.user_id, row.amount, reason=reason,
                                   key=import_key(digest, row.user_id))
                for row in chunk))
            for row, movement in zip(chunk, movements, strict=True):
                # A replay here: another run of the same file paid this member meanwhile.
                statuses[row.user_id] = "already imported" if movement.replayed else "minted"
        return statuses
