"""Importing balances from UnbelievaBoat (CSV) and Red-DiscordBot (bank JSON): the parsers on
real-looking files and Red's own files (tests/currency/fixtures, written by
devtools/red_bank_fixture.py with Red 3.5.24), the import service on the embedded store (once
per file, nothing on a bad file, --merge, a dry run, two runs at once) and the command line."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.backup import ToolError
from bot.economy_import import read_request, render
from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.errors import NotPermitted
from economy.core.sections import MAX_AMOUNT
from economy.currency.importing.parse import parse_red, parse_unbelievaboat
from economy.currency.importing.service import ImportRefused, NeedsMerge, file_digest, import_key

pytestmark = pytest.mark.timeout(120)
FIXTURES = Path(__file__).parent / "fixtures"
GUILD_A, GUILD_B = 700000000000000001, 700000000000000002  # as in devtools/red_bank_fixture.py
ALICE, BOB, CAROL, DAVE = (412345678901234561, 412345678901234562, 412345678901234563,
                           412345678901234564)
#: UnbelievaBoat's leaderboard export as a spreadsheet saves it: BOM, CRLF, a quoted name.
UB_EXPORT = ("\ufeffRank,User ID,Username,Cash,Bank,Total\r\n"
             f"1,{ALICE},\"alice, the first\",1200,300,1500\r\n"
             f"2,{BOB},bob,-20,70,50\r\n"
             f"3,{CAROL},carol,0,0,0\r\n"
             f"4,{DAVE},dave,-80,30,-50\r\n").encode()


def _red(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


# --- parsing -----------------------------------------------------------------------------------
def test_unbelievaboat_export_mints_totals_and_leaves_negative_totals_out_with_their_line():
    parsed = parse_unbelievaboat(UB_EXPORT)
    assert parsed.problems == ()
    assert [(r.line, r.user_id, r.amount) for r in parsed.rows] == [(2, ALICE, 1500), (3, BOB, 50)]
    assert parsed.total == 1550  # carol's zero mints nothing
    [left_out] = parsed.left_out
    assert left_out.line == 5 and str(DAVE) in left_out.message and "negative" in left_out.message


@pytest.mark.parametrize("text", [
    f"rank,user_id,cash,bank,total\n1,{ALICE},5,10,15\n",  # UnbelievaBoat's API field names
    f"User ID,Total\n{ALICE},15\n",
    f"user_id,cash,bank\n{ALICE},5,10\n",
    f"User ID;Cash;Bank;Total\r\n{ALICE};5;10;15\r\n",  # saved by a spreadsheet in a `;` locale
])
def test_unbelievaboat_columns_as_the_export_or_the_api_names_them(text):
    parsed = parse_unbelievaboat(text.encode())
    assert parsed.problems == () and [(r.user_id, r.amount) for r in parsed.rows] == [(ALICE, 15)]


def test_a_csv_with_bad_rows_reports_every_problem_with_its_line():
    text = "\n".join([
        "User ID,Cash,Bank,Total,Bot",
        f"{ALICE},1,2,3,false",                  # 2: fine
        "12345,1,1,2,false",                     # 3: not a snowflake
        f"{BOB},Infinity,0,Infinity,false",      # 4: UnbelievaBoat's unlimited balance
        f"{CAROL},1,1,5,false",                  # 5: cash + bank != total
        f"{DAVE},1,1",                           # 6: missing columns
        f"{ALICE},0,7,7,false",                  # 7: alice again
        "412345678901234565,0,9,9,true",         # 8: a bot
        f"412345678901234566,0,{MAX_AMOUNT + 1},{MAX_AMOUNT + 1},false",  # 9: over the cap
        "412345678901234567,0,2.5,2.5,false",    # 10: not whole
        "",
    ]).encode()
    parsed = parse_unbelievaboat(text)
    lines = {p.line: p.message for p in parsed.problems}
    assert sorted(lines) == [3, 4, 5, 6, 7, 8, 9, 10], parsed.problems
    assert "not a Discord user id" in lines[3]
    assert "Infinity" in lines[4] and "unlimited" in lines[4]
    assert "is not the total" in lines[5]
    assert "3 columns where the header has 5" in lines[6]
    assert "twice" in lines[7] and "line 2" in lines[7]
    assert "bot" in lines[8]
    assert f"{MAX_AMOUNT:,}" in lines[9]
    assert "not a whole number" in lines[10]


@pytest.mark.parametrize(("data", "expected"), [
    (b"", "the file is empty"),
    (b"  \n", "the file is empty"),
    (b"User ID,Cash,Bank,Total\n", "the file lists no members"),
    (b"name,points\nalice,5\n", "line 1: the header must name a user id column"),
    (b"\xff\xfe\x00", "not UTF-8"),
])
def test_an_empty_file_or_a_wrong_header_is_refused(data, expected):
    parsed = parse_unbelievaboat(data)
    assert parsed.rows == () and expected in str(parsed.problems[0])


def test_red_bank_file_written_by_red_reads_the_asked_server_only():
    parsed = parse_red(_red("red_bank_guild"), GUILD_A)
    assert parsed.problems == ()
    # Red's own operations: set 1,500, a deposit of 250 on a new account (default 100), a
    # transfer of 300 from alice to bob; carol withdrew everything (a zero account).
    assert {(r.user_id, r.amount) for r in parsed.rows} == {(ALICE, 1200), (BOB, 650)}
    other = parse_red(_red("red_bank_guild"), GUILD_B)
    assert [(r.user_id, r.amount) for r in other.rows] == [(DAVE, 9000)]


@pytest.mark.parametrize(("name", "guild", "expected"), [
    ("red_bank_global", GUILD_A, "this Red bank is global"),
    ("red_economy_cog", GUILD_A, "Config file of another Red cog (identifier 1256844281)"),
    ("red_bank_guild", 700000000000000009, f"servers in the file: {GUILD_A}, {GUILD_B}"),
])
def test_red_files_of_another_shape_are_refused_with_the_reason(name, guild, expected):
    parsed = parse_red(_red(name), guild)
    assert parsed.rows == () and len(parsed.problems) == 1
    assert expected in parsed.problems[0].message


def test_red_broken_json_and_edited_accounts_name_their_line():
    broken = parse_red(b'{"384734293238749": {\n  "MEMBER": {,\n}}', GUILD_A)
    assert broken.problems[0].line == 2 and "not JSON" in broken.problems[0].message
    edited = (f'{{"384734293238749": {{"MEMBER": {{\n "{GUILD_A}": {{\n'
              f'  "{ALICE}": {{"balance": 10}},\n  "{BOB}": {{"balance": 2.5}},\n'
              f'  "not-an-id": {{"balance": 4}}\n}}}}}}}}').encode()
    parsed = parse_red(edited, GUILD_A)
    assert [(p.line, p.message.split(":")[0]) for p in parsed.problems] == [
        (4, f"user {BOB}"), (5, "'not-an-id' is not a Discord user id (17 to 20 digits)")]
    assert not parse_red(b"", GUILD_A).rows and "empty" in parse_red(b"", GUILD_A).problems[0].message
    assert "not a Red Config file" in parse_red(b"[1, 2]", GUILD_A).problems[0].message


# --- the import service ------------------------------------------------------------------------
async def _balances(services, guild: int, users) -> dict[int, int]:
    return {u: await services.ledger.balance(guild, u) for u in users}


async def _entries(services, guild: int) -> int:
    return await services.db["ledger"].count_documents({"guild_id": guild})


async def test_import_mints_once_per_member_and_file_and_a_second_run_changes_nothing(services):
    importer = services.economy_import
    first = await importer.run(GUILD_A, Actor.system(), "unbelievaboat", UB_EXPORT)
    assert [m.status for m in first.members] == ["minted", "minted"]
    assert first.minted == 1550 and first.new_members == 2 and len(first.left_out) == 1
    assert await _balances(services, GUILD_A, (ALICE, BOB, CAROL, DAVE)) == {
        ALICE: 1500, BOB: 50, CAROL: 0, DAVE: 0}
    entry = await services.db["ledger"].find_one({"guild_id": GUILD_A, "user_id": ALICE})
    assert entry["kind"] == "grant" and entry["mint"] is True
    assert entry["idempotency_key"] == import_key(file_digest(UB_EXPORT), ALICE)
    entries = await _entries(services, GUILD_A)

    again = await importer.run(GUILD_A, Actor.system(), "unbelievaboat", UB_EXPORT)
    assert [m.status for m in again.members] == ["already imported"] * 2
    assert again.minted == 0 and again.already == 2
    assert "Already imported" in render(again, "ub.csv")
    assert await _entries(services, GUILD_A) == entries
    assert await services.ledger.balance(GUILD_A, ALICE) == 1500
    report = await audit(services.db)
    assert report.ok, report.render()


async def test_a_bad_file_imports_nothing_even_its_good_rows(services):
    bad = f"User ID,Total\n{ALICE},10\nnot-a-user,5\n{BOB},-\n".encode()
    with pytest.raises(ImportRefused) as refused:
        await services.economy_import.run(GUILD_A, Actor.system(), "unbelievaboat", bad)
    assert [p.line for p in refused.value.problems] == [3, 4]
    assert "nothing was imported" in refused.value.message
    for name in ("red_bank_global", "red_economy_cog"):
        with pytest.raises(ImportRefused):
            await services.economy_import.run(GUILD_A, Actor.system(), "red", _red(name))
    with pytest.raises(ImportRefused, match="1 problem"):
        await services.economy_import.run(GUILD_A, Actor.system(), "red", b"")
    assert await _entries(services, GUILD_A) == 0


async def test_a_server_with_balances_needs_merge_and_a_dry_run_changes_nothing(services):
    await services.ledger.grant(GUILD_A, Actor.system(), BOB, 5, reason="earned here", key="k")
    importer = services.economy_import
    with pytest.raises(NeedsMerge, match="--merge"):
        await importer.run(GUILD_A, Actor.system(), "red", _red("red_bank_guild"))
    with pytest.raises(NeedsMerge):  # a dry run says so too
        await importer.run(GUILD_A, Actor.system(), "red", _red("red_bank_guild"), dry_run=True)
    dry = await importer.run(GUILD_A, Actor.system(), "red", _red("red_bank_guild"), merge=True,
                             dry_run=True)
    assert [(m.row.user_id, m.status) for m in dry.members] == [(ALICE, "would mint"),
                                                                (BOB, "would mint")]
    assert "Dry run: nothing was changed. Importing would mint 1,850 GEMS for 2 members." in \
        render(dry, "settings.json")
    assert await _entries(services, GUILD_A) == 1
    merged = await importer.run(GUILD_A, Actor.system(), "red", _red("red_bank_guild"), merge=True)
    assert merged.minted == 1850
    assert await _balances(services, GUILD_A, (ALICE, BOB)) == {ALICE: 1200, BOB: 655}
    # The same file again (no --merge needed: it is this file's own import) changes nothing.
    again = await importer.run(GUILD_A, Actor.system(), "red", _red("red_bank_guild"))
    assert again.already == 2 and await _entries(services, GUILD_A) == 3
    with pytest.raises(NotPermitted):
        await importer.run(GUILD_B, Actor(ALICE, guild_id=GUILD_B), "red", _red("red_bank_guild"))


async def test_a_run_that_stopped_half_way_finishes_without_merge(services):
    digest = file_digest(UB_EXPORT)
    # The first run paid alice, then stopped (the key is the one the import uses).
    await services.ledger.grant(GUILD_A, Actor.system(), ALICE, 1500, reason="import",
                                key=import_key(digest, ALICE))
    report = await services.economy_import.run(GUILD_A, Actor.system(), "unbelievaboat",
                                               UB_EXPORT)
    assert [(m.row.user_id, m.status) for m in report.members] == [
        (ALICE, "already imported"), (BOB, "minted")]
    assert await _balances(services, GUILD_A, (ALICE, BOB)) == {ALICE: 1500, BOB: 50}


async def test_two_runs_of_one_file_at_once_mint_each_member_once(services):
    rows = "\n".join(f"{412345678901234600 + i},0,{i + 1},{i + 1}" for i in range(60))
    data = f"User ID,Cash,Bank,Total\n{rows}\n".encode()
    reports = await asyncio.gather(*(services.economy_import.run(
        GUILD_A, Actor.system(), "unbelievaboat", data, merge=True) for _ in range(3)))
    assert sum(r.minted for r in reports) == sum(range(1, 61))
    assert sum(r.new_members for r in reports) == 60
    balances = await _balances(services, GUILD_A, [412345678901234600 + i for i in range(60)])
    assert list(balances.values()) == list(range(1, 61))
    report = await audit(services.db)
    assert report.ok, report.render()


def test_the_command_asks_for_what_is_missing(tmp_path):
    def args(**kw):
        base = {"source": "red", "file": str(FIXTURES / "red_bank_guild.json"), "guild": GUILD_A}
        return argparse.Namespace(**{**base, **kw})

    assert read_request(args())[0] == "red"
    for missing, words in (({"source": None}, "--from unbelievaboat"),
                           ({"file": None}, "Which file?"), ({"guild": None}, "--guild"),
                           ({"guild": 11}, "not a Discord server id"),
                           ({"file": str(tmp_path / "nope.csv")}, "No such file")):
        with pytest.raises(ToolError, match=words):
            read_request(args(**missing))


# --- the command line, end to end (one process per run) ------------------------------------------
def _cli(args, tmp_path):
    root = str(Path(__file__).resolve().parents[2])  # the code under test, whatever is installed
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "DISCORD_TOKEN": "",
           "PYTHONPATH": root, "LOG_LEVEL": "WARNING"}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=90)


@pytest.mark.slow  # two `python -m bot` processes, each with its embedded store
async def test_cli_imports_a_red_bank_once_and_audits(tmp_path):
    command = ["import-economy", "--from", "red", str(FIXTURES / "red_bank_guild.json"),
               "--guild", str(GUILD_A)]
    first = await asyncio.to_thread(_cli, command, tmp_path)
    assert first.returncode == 0, first.stderr
    assert f"user {ALICE}            1,200  minted" in first.stdout
    assert "Imported 1,850 GEMS for 2 members." in first.stdout
    assert "OK: balances match the ledger" in first.stdout
    second = await asyncio.to_thread(_cli, [*command, "--dry-run"], tmp_path)
    assert second.returncode == 0, second.stderr
    assert "already imported" in second.stdout and "would mint 0 GEMS" in second.stdout
    from bot.store import open_store

    async with await open_store(mongodb_uri=None, database_name="gems",
                                data_dir=tmp_path / "data") as store:
        ledger = store.db["ledger"]
        assert await ledger.count_documents({"guild_id": GUILD_A}) == 2
        report = await audit(store.db)
    assert report.ok, report.render()


def test_the_command_prints_each_problem_of_a_bad_file_and_exits_2(tmp_path, capsys):
    from bot.settings import Settings
    from bot.tools import run_tool

    bad = tmp_path / "ub.csv"
    bad.write_text(f"User ID,Total\n{ALICE},10\nnope,5\n")
    args = argparse.Namespace(command="import-economy", source="unbelievaboat", file=str(bad),
                              guild=GUILD_A, merge=False, dry_run=False)
    # A bad file is refused before the store opens: nothing is started, nothing written.
    assert run_tool(args, Settings(_env_file=None, data_dir=tmp_path / "data")) == 2
    err = capsys.readouterr().err
    assert "import-economy: The UnbelievaBoat file has 1 problem; nothing was imported." in err
    assert "  line 3: 'nope' is not a Discord user id (17 to 20 digits)" in err
    assert not (tmp_path / "data").exists()
