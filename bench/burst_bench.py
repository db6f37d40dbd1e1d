"""Burst load: N concurrent commands, time to the first response, through an out-of-process sandbox.

    .venv/bin/python bench/burst_bench.py [--sizes 100,500,1000] [--commands balance,give,browse,click]
                                          [--profile bot.prof] [--single 20] [--hog]

Three processes, so neither the emulator's nor the driver's work is counted against the bot:
the Discord sandbox (`python -m discord_sandbox.standalone`), the bot (this file with `--role bot`:
the real GemsBot over an embedded store, seeded with members, GEMS and listings) and this driver,
which sends each burst through the sandbox's control API in one go and polls what the sandbox
recorded. For each command and size it prints p50/p99 of the time to the first response (what
Discord's 3 s deadline applies to), deadline misses, p99 of the time to the final answer,
throughput (commands / time until the last final answer), and the ratio of the burst's p99 first
response to the p99 of the same command sent one at a time. The bot process reports its garbage
collection time at the end; `BURST_GC=20000,50,1000` freezes the startup heap and sets those
collection thresholds in the bot process (an experiment knob, not a bot setting). `--hog` keeps
one core busy with a CPU hog for the whole run (a loaded host).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from economy.core.actor import Actor

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LISTINGS = 30
GRANT = 1_000_000


def pct(samples: list[float], q: float) -> float:
    """The q-quantile (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


# -- the bot process ---------------------------------------------------------------------------

async def connect_until_ready(bot, token: str) -> asyncio.Task:
    """Log `bot` in to the sandbox and connect it (no identify pause, no guild-ready wait);
    returns the connection task once READY."""
    bot._connection.guild_ready_timeout = 0.05

    async def identify_now(shard_id, *, initial=False):
        return None

    bot.before_identify_hook = identify_now  # type: ignore[method-assign]
    await bot.login(token)
    connection = asyncio.create_task(bot.connect(reconnect=True))
    await bot.wait_until_ready()
    return connection


async def run_bot(info: dict, ready_file: Path, profile: Path | None) -> None:
    """Seed an embedded store, connect GemsBot to the sandbox, serve until SIGTERM."""
    imported = time.time()  # the interpreter and this file's imports
    # As `python -m bot run`: the store process starts first and boots while the bot imports.
    from bot.store import open_store, start_embedded
    server = start_embedded("memory")
    # When each start-up phase ended (epoch seconds; the phases after the bench's set-up, which
    # a restart does not do, are moved back by its duration), for cost_bench.py's start-up line.
    phases = {"bench imports": imported, "store process started": time.time()}
    import logging

    from bot.app import GemsBot
    from bot.settings import Settings
    from bot.startup_migrations import ensure_migrated
    from discord_sandbox.standalone import point_discord_at
    from economy.core.clock import SystemClock
    from economy.core.migrations import Migrator
    from economy.services import build_services

    started = time.time()
    phases["bot imports"] = started
    logging.basicConfig(level=logging.DEBUG if os.environ.get("BURST_DEBUG") else logging.WARNING)
    for noisy in ("discord.gateway", "discord.http", "discord.client", "discord.state", "pymongo", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    point_discord_at(info["base_url"])
    clock = SystemClock()
    settings = Settings(_env_file=None, discord_token=None,  # type: ignore[call-arg]
                        attachment_hosts=["127.0.0.1"], web_port=0)
    guild_id, members = info["guild_id"], info["members"]
    async with await open_store(mongodb_uri=None, database_name="burst",
                                data_dir="memory", started=server) as store:
        phases["store ready"] = time.time()
        # A new database: applying every migration is set-up (counted apart, as the seeding);
        # a start checks them, as bot.runtime does.
        set_up = time.time()
        await Migrator(store.db, clock).apply_pending()
        migrated = time.time() - set_up
        await ensure_migrated(store, settings, clock)
        phases["migrations checked"] = time.time() - migrated
        services = build_services(store.db, clock, **settings.nft_service_options())
        phases["services built"] = time.time() - migrated
        seed_started = time.time()
        for key, value in (("min_account_age_days", "0"), ("min_member_days", "0"),
                           ("marketplace_approval", "off")):
            with contextlib.suppress(Exception):  # a setting this version does not have
                await services.settings.set(guild_id, Actor.system(), key, value)
        await asyncio.gather(*(services.ledger.grant(guild_id, Actor.system(), uid, GRANT, reason="bench seed",
                                                     key=f"seed:{uid}") for uid in members))
        photos = _bench_photos(info.get("photos", 0))
        for i in range(info.get("listings", LISTINGS)):
            seller = members[i % len(members)]
            draft = await services.marketplace.listings.create_draft(
                guild_id, seller, category="rings", condition="new", title=f"Bench ring {i}",
                description="A ring for the bench.", specs="metal: gold", tags="bench",
                price_gems=100 + i, images=[photos[i % len(photos)]] if photos else ())
            await services.marketplace.listings.publish(guild_id, seller, draft.listing_id)
        seeded = time.time() - seed_started + migrated
        bot = GemsBot(services=services, settings=settings, run_jobs=False, run_web=False,
                      own_process=True)
        setup_hook = bot.setup_hook

        async def timed_setup_hook() -> None:
            phases["login"] = time.time() - seeded
            await setup_hook()
            phases["cogs loaded"] = time.time() - seeded

        bot.setup_hook = timed_setup_hook  # type: ignore[method-assign]
        connection = await connect_until_ready(bot, info["token"])
        phases["READY"] = time.time() - seeded
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        # SIGUSR1: write the response policy's counters next to the ready file (cost_bench.py
        # reads them before and after each measurement).
        stats_file = ready_file.with_suffix(".stats")

        def dump_stats() -> None:
            import dataclasses
            stats_file.write_text(json.dumps(dataclasses.asdict(bot.response_policy.stats)))

        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, dump_stats)
        profiler = None
        if profile is not None:
            import cProfile
            profiler = cProfile.Profile()
            profiler.enable()
        import gc as _gc
        gc_time = {"s": 0.0, "n": 0, "t": 0.0}
        gc_pauses: list[tuple[float, float, int]] = []

        def _gc_clock(phase, info):
            if phase == "start":
                gc_time["t"] = time.perf_counter()
            else:
                took = time.perf_counter() - gc_time["t"]
                gc_time["s"] += took
                gc_time["n"] += info["generation"] == 2
                if took > 0.2:  # a pause long enough to matter to a burst (printed at the end)
                    gc_pauses.append((time.monotonic() - took, took, info["generation"]))

        _gc.callbacks.append(_gc_clock)
        if os.environ.get("BURST_GC"):
            import gc
            gc.collect()
            gc.freeze()
            gc.set_threshold(*map(int, os.environ["BURST_GC"].split(",")))
        # Start-up to READY without the bench's own seeding (cost_bench.py reads this).
        ready_file.write_text(json.dumps({"started": started, "ready": time.time(),
                                          "seeding": seeded, "phases": phases}))
        await stop.wait()
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(profile))
        stats = bot.response_policy.stats
        ack = bot.response_policy.acknowledger
        if ack is not None:
            print(f"acknowledger: sent {ack.sent}, skipped {ack.skipped}, failed {ack.failed}")
            # Per burst (defers asked within 1 s of each other): how long the bot took to read
            # the burst from the gateway, to start each defer, and the defer's round trip.
            bursts: list[list[tuple[float, float, float]]] = []
            for t in ack.timings:
                if not bursts or t[0] - bursts[-1][-1][0] > 1.0:
                    bursts.append([])
                bursts[-1].append(t)
            for b in (b for b in bursts if len(b) >= 100):
                t0 = b[0][0]
                for at, took, gen in gc_pauses:
                    if t0 - 1 <= at <= b[-1][2]:
                        print(f"  GC pause (gen {gen}) of {took * 1000:.0f} ms, {at - t0:+.2f} s "
                              "after the first ask below")
                print(f"  burst of {len(b)}: asked over {b[-1][0] - t0:.2f} s; "
                      f"queued p50/p99 {pct([s - a for a, s, _ in b], .5) * 1000:.0f}/"
                      f"{pct([s - a for a, s, _ in b], .99) * 1000:.0f} ms; round trip p50/p99 "
                      f"{pct([d - s for _, s, d in b], .5) * 1000:.0f}/"
                      f"{pct([d - s for _, s, d in b], .99) * 1000:.0f} ms; last answered "
                      f"{max(d for _, _, d in b) - t0:.2f} s after the first ask")
        print(f"policy: {stats}; GC {gc_time['s']:.2f} s ({gc_time['n']} full)", flush=True)
        await bot.close()
        connection.cancel()


def _bench_photos(count: int) -> list:
    """`count` distinct listing photos, processed as an upload is (full + thumbnail JPEGs)."""
    from economy.core.images import process_image
    from tests.core.test_images import photo
    return [process_image(photo(640, 480, gps=False, colour=(40 + 23 * i % 200, 90, 160 - i % 100)))
            for i in range(count)]


# -- the driver --------------------------------------------------------------------------------

class Driver:
    """Sends bursts through the sandbox's control API and reads back what it recorded."""

    def __init__(self, control: str, info: dict, http: aiohttp.ClientSession) -> None:
        self.control, self.info, self.http = control, info, http
        self.members: list[int] = info["members"]
        self.button: tuple[int, str] | None = None

    async def post(self, path: str, body: dict) -> dict:
        async with self.http.post(self.control + path, json=body) as response:
            response.raise_for_status()
            return await response.json()

    def build(self, command: str, n: int, round_no: int) -> list[dict]:
        out = []
        for i in range(n):
            user = self.members[i % len(self.members)]
            if command == "balance":
                data = {"name": "gems", "options": [{"type": 1, "name": "balance", "options": []}]}
            elif command == "give":
                to = self.members[(i + 1) % len(self.members)]
                data = {"name": "gems", "options": [{"type": 1, "name": "give", "options": [
                    {"type": 6, "name": "member", "value": str(to)},
                    {"type": 4, "name": "amount", "value": 1},
                    {"type": 3, "name": "note", "value": f"burst {round_no}"}]}]}
            elif command == "browse":
                data = {"name": "market", "options": [{"type": 1, "name": "browse", "options": []}]}
            else:
                assert self.button is not None
                message_id, custom_id = self.button
                out.append({"kind": "click", "user_id": user, "message_id": message_id,
                            "data": {"custom_id": custom_id, "component_type": 2}})
                continue
            out.append({"kind": "slash", "user_id": user, "data": data})
        return out

    async def prepare_button(self) -> None:
        """Post one leaderboard: its Prev/Next buttons are what the click bursts press."""
        ids = (await self.post("/burst", {"interactions": [{"kind": "slash", "user_id": self.members[0],
               "data": {"name": "gems", "options": [{"type": 1, "name": "leaderboard", "options": []}]}}]}))["ids"]
        await self.wait(ids, timeout=30)
        self.board = ids[0]

    async def current_button(self) -> tuple[int, str]:
        """The leaderboard's enabled Next (else Prev) button as the message shows it now.

        Discord only lets members press buttons the message carries, and discord.py drops a
        click on a custom_id the message no longer has, so every burst presses a live one.
        """
        message = await self.post("/message", {"interaction_id": self.board})
        buttons = [c for row in message.get("components", []) for c in row.get("components", [])
                   if c.get("custom_id") and not c.get("disabled")]
        for suffix in (":next", ":prev"):
            for component in buttons:
                if component["custom_id"].endswith(suffix):
                    return int(message["id"]), component["custom_id"]
        raise RuntimeError(f"no enabled button on the leaderboard: {message}")

    async def wait(self, ids: list[str], *, timeout: float) -> dict:
        """Poll until every interaction got its final answer (or gave up)."""
        deadline = time.monotonic() + timeout
        while True:
            status = await self.post("/status", {"ids": ids})
            done = [s for s in status["interactions"] if s["final"] is not None or s["dm"]]
            if len(done) == len(ids) or time.monotonic() > deadline:
                return status
            await asyncio.sleep(0.1)

    async def run(self, command: str, n: int, round_no: int) -> dict:
        if command == "click":
            self.button = await self.current_button()
        ids = (await self.post("/burst", {"interactions": self.build(command, n, round_no)}))["ids"]
        return await self.wait(ids, timeout=120)


def summarise(status: dict, n: int, violations_before: int) -> dict:
    items = status["interactions"]
    firsts = [s["first"] for s in items if s["first"] is not None]
    finals = [s["final"] for s in items if s["final"] is not None]
    misses = sum(1 for s in items if s["first"] is None or s["first"] > 3.0)
    unanswered = sum(1 for s in items if s["final"] is None and not s["dm"])
    return {
        "n": n, "p50": statistics.median(firsts) if firsts else float("nan"),
        "p99": pct(firsts, 0.99) if firsts else float("nan"),
        "max": max(firsts) if firsts else float("nan"),
        "misses": misses, "violations": status["deadline_violations"] - violations_before,
        "final_p99": pct(finals, 0.99) if finals else float("nan"),
        "throughput": n / max(finals) if finals else 0.0, "unanswered": unanswered,
        "dms": sum(1 for s in items if s["dm"]),
    }


async def drive(args: argparse.Namespace) -> int:
    py = sys.executable
    tmp = Path(tempfile.mkdtemp(prefix="burst-"))
    port_file, ready_file = tmp / "sandbox.port", tmp / "bot.ready"
    sandbox = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is timed
        [py, "-m", "discord_sandbox.standalone", "--port-file", str(port_file),
         *(["--profile", str(Path(args.sandbox_profile).resolve())] if args.sandbox_profile else [])],
        cwd=ROOT, stdout=subprocess.DEVNULL)
    bot = None
    # --hog: one core kept busy for the whole run, as on a loaded host (issue 28).
    hog = subprocess.Popen([py, "-c", "while True: pass"]) if args.hog else None  # noqa: ASYNC220
    try:
        for _ in range(300):
            if port_file.exists() and port_file.read_text():
                break
            await asyncio.sleep(0.1)
        control = f"http://127.0.0.1:{port_file.read_text()}"
        async with aiohttp.ClientSession() as http:
            members = max(args.sizes) + 1
            async with http.post(control + "/setup", json={"members": members}) as response:
                info = await response.json()
            info_file = tmp / "info.json"
            info_file.write_text(json.dumps(info))
            cmd = [py, __file__, "--role", "bot", "--info", str(info_file), "--ready", str(ready_file)]
            if args.profile:
                cmd += ["--profile", str(Path(args.profile).resolve())]
            bot = subprocess.Popen(cmd, cwd=ROOT)  # noqa: ASYNC220 - started once
            for _ in range(1200):
                if ready_file.exists() or bot.poll() is not None:
                    break
                await asyncio.sleep(0.1)
            if not ready_file.exists():
                print("the bot process did not get ready", file=sys.stderr)
                return 1
            driver = Driver(control, info, http)
            await driver.prepare_button()
            print(f"bot ready: {members} members, {LISTINGS} listings; sandbox and bot in their "
                  f"own processes; cores: {os.cpu_count()}; load {os.getloadavg()[0]:.1f}"
                  f"{'; one core busy with a CPU hog' if hog else ''}\n")
            single: dict[str, float] = {}
            round_no = 0
            for command in args.commands:
                samples = []
                for _ in range(args.single):
                    round_no += 1
                    status = await driver.run(command, 1, round_no)
                    samples += [s["first"] for s in status["interactions"] if s["first"] is not None]
                single[command] = pct(samples, 0.99)
            header = (f"{'command':<9}{'N':>6}{'p50 first':>11}{'p99 first':>11}{'max':>8}{'misses':>8}"
                      f"{'p99 final':>11}{'cmd/s':>8}{'no answer':>11}{'p99 ratio':>11}")
            print(header)
            print("-" * len(header))
            worst_ok = True
            for n in args.sizes:
                for command in args.commands:
                    round_no += 1
                    before = (await driver.post("/status", {"ids": []}))["deadline_violations"]
                    s = summarise(await driver.run(command, n, round_no), n, before)
                    ratio = s["p99"] / single[command] if single[command] else float("nan")
                    print(f"{command:<9}{n:>6}{s['p50'] * 1000:>9.0f}ms{s['p99'] * 1000:>9.0f}ms"
                          f"{s['max'] * 1000:>6.0f}ms{s['misses']:>8}{s['final_p99'] * 1000:>9.0f}ms"
                          f"{s['throughput']:>8.0f}{s['unanswered']:>11}{ratio:>10.1f}x", flush=True)
                    worst_ok &= s["misses"] == 0 and s["unanswered"] == 0
            print("\nsingle-command p99 first response: "
                  + ", ".join(f"{c} {v * 1000:.0f} ms" for c, v in single.items()))
            await driver.post("/shutdown", {})
        return 0 if worst_ok else 2
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
        if bot is not None and bot.poll() is None:
            bot.send_signal(signal.SIGTERM)
            try:
                bot.wait(60)
            except subprocess.TimeoutExpired:
                bot.kill()
        try:
            sandbox.wait(10)
        except subprocess.TimeoutExpired:
            sandbox.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,500,1000")
    parser.add_argument("--commands", default="balance,give,browse,click")
    parser.add_argument("--single", type=int, default=20, help="one-at-a-time runs per command")
    parser.add_argument("--profile", default=None, help="cProfile the bot process into this file")
    parser.add_argument("--sandbox-profile", default=None, help="cProfile the sandbox into this file")
    parser.add_argument("--hog", action="store_true", help="keep one core busy during the run")
    parser.add_argument("--role", default="driver", choices=["driver", "bot"])
    parser.add_argument("--info", default=None)
    parser.add_argument("--ready", default=None)
    args = parser.parse_args()
    if args.role == "bot":
        info = json.loads(Path(args.info).read_text())
        profile = Path(args.profile) if args.profile else None
        asyncio.run(run_bot(info, Path(args.ready), profile))
        return 0
    args.sizes = [int(x) for x in args.sizes.split(",")]
    args.commands = args.commands.split(",")
    return asyncio.run(drive(args))


if __name__ == "__main__":
    sys.exit(main())
