"""Reading other bots' balance files: pure functions, no store, no Discord.

Both parsers return a `Parsed`: the rows to mint (line, member, amount), the rows left out on
purpose (zero or negative balances, with the reason) and the problems. A file with any problem
imports nothing, so the admin fixes the file (or the command) and runs it again.

UnbelievaBoat: the leaderboard export, one row per member. The column names follow UnbelievaBoat's
own balance objects (`rank, user_id, cash, bank, total`, as its API returns them); the dashboard's
spelling ("User ID", "Cash", "Bank", "Total", "Rank", "Username") is read the same way (letter case,
spaces and underscores do not matter). The amount is `total` (cash + bank; when all three columns
are there they must agree). UnbelievaBoat lets cash go below zero (fines): a row whose total is
negative is left out (GEMS balances never go below zero, so the debt is not carried over) and
listed. A `bot` column, when present, refuses bot rows.

Red-DiscordBot: the Bank's Config file as Red's JSON driver stores it
(`<data path>/cogs/Bank/settings.json`): `{"384734293238749": {"MEMBER": {"<guild>": {"<user>":
{"balance": N, ...}}}, "USER": {...}, "GLOBAL": {"is_global": bool, ...}}}`. A per-server bank
(Red's default) holds the balances under MEMBER; a global bank holds one balance per user for
every server under USER, which belongs to no one server: it is refused for a `--guild`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field

from economy.core.sections import MAX_AMOUNT

#: Red's Config identifier of its bank (redbot/core/bank.py).
RED_BANK_ID = "384734293238749"
SOURCES = {"unbelievaboat": "UnbelievaBoat", "red": "Red-DiscordBot"}
#: Discord ids (snowflakes) have 17 to 20 digits and fit a signed 64-bit integer.
_SNOWFLAKE = re.compile(r"[0-9]{17,20}")
_WHOLE = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True)
class Row:
    """One member's balance to mint."""

    line: int
    user_id: int
    amount: int


@dataclass(frozen=True)
class Problem:
    """Why the file cannot be imported; `line` 0 = the file as a whole."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class Parsed:
    """What a file holds: rows to mint, rows left out (with why), problems."""

    rows: tuple[Row, ...] = ()
    left_out: tuple[Problem, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def total(self) -> int:
        """GEMS the rows add up to."""
        return sum(row.amount for row in self.rows)


@dataclass
class _Collect:
    rows: list[Row] = field(default_factory=list)
    left_out: list[Problem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    seen: dict[int, int] = field(default_factory=dict)

    def member(self, line: int, raw_id: str, amount: int | None, *, is_bot: bool = False) -> None:
        user_id = snowflake(raw_id)
        if user_id is None:
            self.problems.append(Problem(line, f"{raw_id.strip()[:40]!r} is not a Discord user "
                                               "id (17 to 20 digits)"))
            return
        if user_id in self.seen:
            self.problems.append(Problem(line, f"user {user_id} appears twice (also on line "
                                               f"{self.seen[user_id]})"))
            return
        self.seen[user_id] = line
        if is_bot:
            self.problems.append(Problem(line, f"user {user_id} is a bot (bots hold no GEMS): "
                                               "remove the row"))
            return
        if amount is None:
            return  # the amount's problem is recorded already
        if amount > MAX_AMOUNT:
            self.problems.append(Problem(line, f"user {user_id}: {amount:,} is more than one "
                                               f"balance can hold ({MAX_AMOUNT:,})"))
        elif amount < 0:
            self.left_out.append(Problem(line, f"user {user_id}: the balance {amount:,} is "
                                               "negative; GEMS balances never go below zero, so "
                                               "the debt is not carried over"))
        elif amount > 0:
            self.rows.append(Row(line, user_id, amount))

    def done(self) -> Parsed:
        if not self.problems and not self.rows and not self.left_out and not self.seen:
            self.problems.append(Problem(0, "the file lists no members"))
        return Parsed(tuple(self.rows), tuple(self.left_out), tuple(self.problems))


def snowflake(raw: object) -> int | None:
    """The Discord id in `raw` (digits only, 17 to 20 of them, below 2**63), or None."""
    text = str(raw).strip()
    if not _SNOWFLAKE.fullmatch(text):
        return None
    value = int(text)
    return value if value < 2**63 else None


def _whole(raw: str) -> int | None:
    text = raw.strip().replace("_", "")
    return int(text) if _WHOLE.fullmatch(text) else None


# --- UnbelievaBoat -----------------------------------------------------------------------------
_ID_NAMES = ("userid", "id", "discordid", "memberid", "user")
_BOT_NAMES = ("bot", "isbot")


def _column(header: list[str], *names: str) -> int | None:
    keys = [re.sub(r"[\s_-]+", "", name).casefold() for name in header]
    for name in names:
        if name in keys:
            return keys.index(name)
    return None


def parse_unbelievaboat(data: bytes) -> Parsed:
    """Read UnbelievaBoat's leaderboard export (CSV: user id, cash, bank, total)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Parsed(problems=(Problem(0, "the file is not UTF-8 text (is it the CSV export?)"),))
    if not text.strip():
        return Parsed(problems=(Problem(0, "the file is empty"),))
    first = text.split("\n", 1)[0]
    # A spreadsheet saving CSV in a locale whose decimal mark is a comma separates with `;`.
    delimiter = next((d for d in (",", ";", "\t") if d in first), ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as exc:
        return Parsed(problems=(Problem(1, f"not CSV: {exc}"),))
    user_col = _column(header, *_ID_NAMES)
    cash_col, bank_col = _column(header, "cash"), _column(header, "bank")
    total_col, bot_col = _column(header, "total"), _column(header, *_BOT_NAMES)
    if user_col is None or (total_col is None and (cash_col is None or bank_col is None)):
        found = ", ".join(h.strip() for h in header)[:120]
        return Parsed(problems=(Problem(1, "the header must name a user id column and total "
                                           "(or cash and bank), as UnbelievaBoat's export does: "
                                           f"`User ID,Cash,Bank,Total`; this one has: {found}"),))
    out = _Collect()
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            _unbelievaboat_row(out, line, record, header, user_col, cash_col, bank_col,
                               total_col, bot_col)
    except csv.Error as exc:
        out.problems.append(Problem(reader.line_num, f"not CSV: {exc}"))
    return out.done()


def _unbelievaboat_row(out: _Collect, line: int, record: list[str], header: list[str],
                       user_col: int, cash_col: int | None, bank_col: int | None,
                       total_col: int | None, bot_col: int | None) -> None:
    if len(record) != len(header):
        out.problems.append(Problem(line, f"{len(record)} columns where the header has "
                                          f"{len(header)}"))
        return
    values: dict[str, int | None] = {}
    for name, col in (("cash", cash_col), ("bank", bank_col), ("total", total_col)):
        if col is None:
            continue
        values[name] = _whole(record[col])
        if values[name] is None:
            shown = record[col].strip()[:30]
            why = (" (an unlimited balance has no GEMS equivalent)"
                   if shown.lower().lstrip("+-") == "infinity" else "")
            out.problems.append(Problem(line, f"{name} {shown!r} is not a whole number{why}"))
            out.member(line, record[user_col], None)
            return
    cash, bank, total = values.get("cash"), values.get("bank"), values.get("total")
    if total is not None and cash is not None and bank is not None and cash + bank != total:
        out.problems.append(Problem(line, f"cash {cash:,} + bank {bank:,} is not the total "
                                          f"{total:,} (was the file edited?)"))
        out.member(line, record[user_col], None)
        return
    amount = total if total is not None else (cash or 0) + (bank or 0)
    is_bot = bot_col is not None and record[bot_col].strip().casefold() in ("true", "yes", "1")
    out.member(line, record[user_col], amount, is_bot=is_bot)


# --- Red-DiscordBot ----------------------------------------------------------------------------
def _line_at(text: str, *keys: str) -> int:
    """The line of the last of `keys`, each looked for after the one before (Red writes one
    line; an edited, indented file gets the member's own line)."""
    at = 0
    for key in keys:
        found = text.find(json.dumps(key), at)
        if found < 0:
            break
        at = found
    return text.count("\n", 0, at) + 1


def parse_red(data: bytes, guild_id: int) -> Parsed:
    """Read Red-DiscordBot's bank (its Config JSON) for the server `guild_id`."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Parsed(problems=(Problem(0, "the file is not UTF-8 text (is it Red's "
                                           "cogs/Bank/settings.json?)"),))
    if not text.strip():
        return Parsed(problems=(Problem(0, "the file is empty"),))
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        return Parsed(problems=(Problem(exc.lineno, f"not JSON: {exc.msg} (column {exc.colno})"),))
    problem = _red_shape_problem(doc, guild_id)
    if problem is not None:
        return Parsed(problems=(problem,))
    accounts = doc[RED_BANK_ID]["MEMBER"][str(guild_id)]
    out = _Collect()
    for raw_id, account in accounts.items():
        line = _line_at(text, "MEMBER", str(guild_id), raw_id)
        balance = account.get("balance") if isinstance(account, dict) else None
        if isinstance(balance, bool) or not isinstance(balance, int):
            out.problems.append(Problem(line, f"user {raw_id[:40]}: the account has no whole "
                                              f"balance ({json.dumps(account)[:60]})"))
            out.member(line, raw_id, None)
            continue
        out.member(line, raw_id, balance)
    return out.done()


def _red_shape_problem(doc: object, guild_id: int) -> Problem | None:
    where = "Red keeps the bank in <Red's data path>/cogs/Bank/settings.json"
    if not isinstance(doc, dict) or RED_BANK_ID not in doc:
        if isinstance(doc, dict) and doc and all(k.isdigit() and isinstance(v, dict)
                                                 for k, v in doc.items()):
            other = ", ".join(sorted(doc))[:60]
            return Problem(0, f"this is the Config file of another Red cog (identifier {other}), "
                              f"not the bank's ({RED_BANK_ID}): {where}")
        return Problem(0, f"this is not a Red Config file (no bank under {RED_BANK_ID}): {where}")
    bank = doc[RED_BANK_ID]
    if not isinstance(bank, dict):
        return Problem(0, f"the bank entry {RED_BANK_ID} is not an object: {where}")
    settings = bank.get("GLOBAL")
    if isinstance(settings, dict) and settings.get("is_global") is True:
        return Problem(0, "this Red bank is global: it holds one balance per user for every "
                          "server the Red bot was in, with no per-server part, so importing it "
                          f"into server {guild_id} would hand its members what they held "
                          "everywhere. Only a per-server bank (Red's default) can be imported")
    members = bank.get("MEMBER", {})
    if not isinstance(members, dict):
        return Problem(0, "the bank's MEMBER entry is not an object (not Red's bank format)")
    accounts = members.get(str(guild_id))
    if accounts is None:
        servers = ", ".join(sorted(members))[:120] or "none"
        return Problem(0, f"the bank has no accounts of server {guild_id}; servers in the file: "
                          f"{servers}")
    if not isinstance(accounts, dict):
        return Problem(0, f"the accounts of server {guild_id} are not an object (not Red's format)")
    return None


def parse(source: str, data: bytes, guild_id: int) -> Parsed:
    """Read `data` as exported by `source` (`unbelievaboat` or `red`) for server `guild_id`."""
    if source == "unbelievaboat":
        return parse_unbelievaboat(data)
    if source == "red":
        return parse_red(data, guild_id)
    raise ValueError(f"unknown source {source!r}; one of {', '.join(SOURCES)}")
