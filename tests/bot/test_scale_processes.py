"""Several bot processes on one database: one scheduler leader (lease + fencing token), guild work
run by the process that owns the guild's shard, every sweep applied and announced once, and a
leader killed with SIGKILL replaced within the lease.

Each bot is a real subprocess (tests/bot/multiproc_bot.py) connected to the sandbox in this
process and to the test's store, used as MongoDB is (no in-process lock). The tests poll for
recorded facts (messages, lease and outbox documents) with generous deadlines; nothing is timed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.guild_work import shard_of
from discord_sandbox.harness import DiscordSandbox
from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.clock import ManualClock, SystemClock
from economy.repos.base import find_docs
from economy.repos.lease_repo import LeaseRepo
from economy.services import build_services
from tests.procs import alive

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]  # slow: several bot processes

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 3.0


async def until(predicate, what: str, within: float = 90.0):
    """Poll `predicate` (sync or async) until it returns a truthy value; return that value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"not reached within {within:.0f} s: {what}")
        await asyncio.sleep(0.1)


class Fleet:
    """The bot processes of one test."""

    def __init__(self, sb: DiscordSandbox, uri: str, db_name: str, shard_count: int,
                 logs: Path) -> None:
        self.sb, self.uri, self.db_name, self.shard_count, self.logs = sb, uri, db_name, shard_count, logs
        self.procs: list[tuple[subprocess.Popen, list[int]]] = []

    def start(self, shard_ids: list[int]) -> subprocess.Popen:
        env = dict(os.environ, PYTHONPATH=str(ROOT), GEMS_SANDBOX_URL=self.sb.base_url,
                   GEMS_SANDBOX_GATEWAY=self.sb.server.gateway_url, GEMS_TOKEN=self.sb.token,
                   GEMS_STORE_URI=self.uri, GEMS_DB=self.db_name,
                   GEMS_SHARD_COUNT=str(self.shard_count),
                   GEMS_SHARD_IDS=",".join(map(str, shard_ids)),
                   GEMS_LEASE_SECONDS=str(LEASE_SECONDS), GEMS_JOB_SECONDS="0.5")
        n = len(self.procs)
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests/bot/multiproc_bot.py")], cwd=ROOT, env=env,
            stdin=subprocess.DEVNULL, stdout=open(self.logs / f"bot{n}.out", "w"),  # noqa: SIM115
            stderr=open(self.logs / f"bot{n}.err", "w"))  # noqa: SIM115
        self.procs.append((proc, shard_ids))
        return proc

    def stop_all(self) -> None:
        for proc, _ in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, _ in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def log_tail(self) -> str:
        parts = []
        for path in sorted(self.logs.glob("bot*.err")):
            parts.append(f"--- {path.name}\n" + path.read_text()[-1500:])
        return "\n".join(parts)


@contextlib.asynccontextmanager
async def community(store, mongo_uri, tmp_path, *, guilds: int, shard_count: int):
    uri, _ = mongo_uri
    services = build_services(store.db, SystemClock())
    async with DiscordSandbox() as sb:
        made = []
        for i in range(guilds):
            guild = sb.create_guild(f"Guild {i}")
            channel = sb.create_channel(guild, "announcements")
            await services.settings.set(guild.id, Actor.system(), "announcements_channel_id", str(channel.id))
            made.append((guild, channel))
        fleet = Fleet(sb, uri, store.db.name, shard_count, tmp_path)
        try:
            yield sb, services, made, fleet
        except BaseException:
            print(fleet.log_tail())
            raise
        finally:
            fleet.stop_all()


async def start_boosts(services, made, label: str) -> None:
    """A running boost per guild: each start must be announced exactly once."""
    now = services.clock.now()
    for i, (guild, _) in enumerate(made):
        await services.boosts.windows.add(guild.id, 200, starts_at=now - timedelta(minutes=1),
                                       ends_at=now + timedelta(hours=1), reason=f"{label}-g{i}")


def announced(sb, made, label: str) -> list[int]:
    """How many messages announce `label`'s boost in each guild's channel."""
    return [sum(f"{label}-g{i}" in (m.content or "") for m in sb.channel_messages(channel))
            for i, (_, channel) in enumerate(made)]


async def delivered_trades(store, sb, made) -> list[tuple]:
    """A delivered trade per guild whose auto-release is long due (made a month ago on a manual
    clock): the leader's escrow sweep must pay each seller exactly once and both sides hear of
    it once, from the process that owns the guild."""
    past = ManualClock(SystemClock().now() - timedelta(days=30))
    services = build_services(store.db, past)
    trades = []
    for i, (guild, _) in enumerate(made):
        seller, buyer = sb.add_member(guild, f"seller{i}"), sb.add_member(guild, f"buyer{i}")
        await services.ledger.grant(guild.id, Actor.system(), buyer.id, 100, reason="seed", key=f"seed{i}")
        trade = await services.trades.offer(guild.id, seller.id, buyer.id, 40, f"Gem lot {i}")
        await services.trades.accept(guild.id, trade.trade_id, buyer.id)
        await services.trades.mark_delivered(guild.id, trade.trade_id, seller.id)
        trades.append((guild, trade.trade_id, buyer, seller))
    return trades


async def settled(store, trades) -> bool:
    docs = await find_docs(store.db["trades"], {"status": "completed"})
    return len(docs) == len(trades)


def release_dms(sb, member) -> int:
    return sum("released to the seller" in (m.content or "") for m in sb.dms(member))


async def lease(store) -> dict:
    docs = await find_docs(store.db["leases"], {"_id": "scheduler"})
    return docs[0] if docs else {}


def pid_of(owner: str) -> int:
    return int(owner.split(":")[-2])


async def outbox(store) -> list[dict]:
    return await find_docs(store.db["outbox"], {"kind": "boost-announce"})


async def test_three_processes_four_shards_leader_killed(store, mongo_uri, tmp_path):
    async with community(store, mongo_uri, tmp_path, guilds=8, shard_count=4) as (
            sb, services, made, fleet):
        await start_boosts(services, made, "P1")
        trades = await delivered_trades(store, sb, made)
        for ids in ([0, 1], [2], [3]):
            fleet.start(ids)
        await until(lambda: all(n >= 1 for n in announced(sb, made, "P1")), "P1 announced")
        await until(lambda: settled(store, trades), "every due trade auto-released")
        await until(lambda: all(release_dms(sb, b) and release_dms(sb, s) for _, _, b, s in trades),
                    "both sides of every trade told")
        first = await until(lambda: lease(store), "a leader")
        leader_pid = pid_of(first["owner"])
        leader_proc, leader_shards = next((p, s) for p, s in fleet.procs if p.pid == leader_pid)

        # SIGKILL: no clean shutdown, the lease stays until it expires.
        os.kill(leader_pid, signal.SIGKILL)
        assert await asyncio.to_thread(leader_proc.wait, 10) == -signal.SIGKILL
        # A process manager restarts the dead process (its shards need an owner).
        fleet.start(leader_shards)
        await start_boosts(services, made, "P2")
        await until(lambda: all(n >= 1 for n in announced(sb, made, "P2")), "P2 announced")
        taken = await until(lambda: _taken_over(store, first), "another process took the lease over")

        # Let the new leader sweep a few more times: nothing may be announced again.
        last = int(taken["renewed_at"])
        await until(lambda: _renewed_after(store, last + 3000), "three more seconds of sweeps")

        assert announced(sb, made, "P1") == [1] * len(made)
        assert announced(sb, made, "P2") == [1] * len(made)
        assert alive(pid_of(taken["owner"])) and pid_of(taken["owner"]) != leader_pid
        terms = await until(lambda: _terms_through(services.db, taken["token"]),
                            "the new leader's term recorded")
        # The dead leader's term ended by expiry, and a survivor took over after it.
        assert any(t["previous"] and t["previous"]["owner"] == first["owner"]
                   and not t["previous"]["released"] for t in terms), terms
        assert_no_overlapping_terms(terms)
        await assert_outbox_run_once_by_owners(store, fleet, shard_count=4)
        # The money sweep: each seller paid once, each side told once, the ledger balanced.
        for guild, _trade_id, buyer, seller in trades:
            assert await services.ledger.balance(guild.id, seller.id) == 40 - _fee(40)
            assert await services.ledger.balance(guild.id, buyer.id) == 60
            assert (release_dms(sb, buyer), release_dms(sb, seller)) == (1, 1)
        report = await audit(services.db)
        assert report.ok, report.render()


def assert_no_overlapping_terms(terms: list[dict]) -> None:
    """Every takeover waited for the previous term to expire (or be handed over): never two
    leaders at once. Tokens only grow, one holder per token."""
    assert [t["token"] for t in terms] == sorted({t["token"] for t in terms})
    for term in terms:
        previous = term["previous"]
        if previous is not None:
            assert previous["owner"] != term["owner"]
            assert previous["released"] or term["acquired_at"] >= previous["expires_at"], term


async def assert_outbox_run_once_by_owners(store, fleet: Fleet, *, shard_count: int) -> None:
    """Every handed-over announcement ran once, on a process that serves the guild's shard."""
    items = await outbox(store)
    assert items, "no announcement crossed processes through the outbox"
    for item in items:
        assert item["status"] == "done", item
        runner = next(s for p, s in fleet.procs if p.pid == pid_of(item["owner"]))
        assert shard_of(item["guild_id"], shard_count) in runner


def _fee(price: int) -> int:
    from economy.core.settings import GuildSettings
    from economy.trades.models import fee_for

    return fee_for(price, GuildSettings().escrow_fee_bps)


async def _taken_over(store, killed: dict):
    doc = await lease(store)
    return doc if doc.get("token", 0) > killed["token"] else None


async def _terms_through(db, token: int) -> list | None:
    """The recorded leadership terms once term `token` is among them (a new leader records its
    term just after it takes the lease), else None."""
    terms = await LeaseRepo(db).terms("scheduler")
    return terms if any(t["token"] >= token for t in terms) else None


async def _renewed_after(store, ms: int) -> bool:
    return int((await lease(store)).get("renewed_at", 0)) > ms


async def test_two_processes_two_shards_clean_handover(store, mongo_uri, tmp_path):
    async with community(store, mongo_uri, tmp_path, guilds=4, shard_count=2) as (
            sb, services, made, fleet):
        await start_boosts(services, made, "A")
        for ids in ([0], [1]):
            fleet.start(ids)
        await until(lambda: all(n >= 1 for n in announced(sb, made, "A")), "A announced")
        first = await lease(store)
        leader = next(p for p, _ in fleet.procs if p.pid == pid_of(first["owner"]))
        leader.send_signal(signal.SIGTERM)  # clean stop: the lease is released at once
        await asyncio.to_thread(leader.wait, 20)
        taken = await until(lambda: _taken_over(store, first), "the other process leads")
        assert pid_of(taken["owner"]) != leader.pid
        terms = await until(lambda: _terms_through(services.db, taken["token"]),
                            "the new leader's term recorded")
        # Handed over, not waited out.
        assert any(t["previous"] and t["previous"]["owner"] == first["owner"]
                   and t["previous"]["released"] for t in terms), terms
        assert_no_overlapping_terms(terms)
        await start_boosts(services, made, "B")
        # Guilds of the stopped process's shard get their announcement when it comes back.
        fleet.start([0] if pid_of(first["owner"]) == fleet.procs[0][0].pid else [1])
        await until(lambda: all(n >= 1 for n in announced(sb, made, "B")), "B announced")
        last = int((await lease(store))["renewed_at"])
        await until(lambda: _renewed_after(store, last + 2000), "two more seconds of sweeps")
        assert announced(sb, made, "A") == [1] * len(made)
        assert announced(sb, made, "B") == [1] * len(made)
        await assert_outbox_run_once_by_owners(store, fleet, shard_count=2)
