"""Cost per interaction: GEMS side by side with a bare discord.py bot on the same transport.

Two bot processes, each against its own standalone sandbox process (`discord_sandbox/standalone.py`
playing Discord, as in `bench/burst_bench.py`, whose bot process and driver this reuses):

- GEMS: `GemsBot` with the embedded store (its own child process) seeded with members, their
  grants and listings with photos;
- bare: an `AutoShardedBot` written here with the same intents, member cache, HTTP pool,
  logging, gateway settings and transport, whose commands (`/gems balance|give|leaderboard`,
  `/market browse`) reply with text, and a persistent Next button that edits its message.

For each command (balance, give, browse, a button click) and each mode (steady: one interaction
every 1/rate s; burst: N in one loop turn) it measures the CPU time the processes used (utime +
stime from /proc, the store process counted apart), in interleaved rounds (bare, GEMS, bare,
GEMS, ...) and prints the medians per interaction and the ratios. Before the rounds it reads the
RSS of both bots (and the store) at READY, after a warm-up and after many more browses (in
batches of 100); at the end, start-up to READY (process start to READY minus the bench's own
seeding and migrating its new database) and when each of GEMS's start-up phases ended. Per
measurement it also prints how many interactions GEMS's response policy deferred and why
(read from the bot process over SIGUSR1). Absolute numbers depend on the machine's load (printed); ratios from
one interleaved run are what to compare.

    PYTHONPATH=. .venv/bin/python bench/cost_bench.py [--rounds 3] [--steady 200] [--rate 100]
        [--burst 500] [--members 1000] [--listings 300] [--browses 1000] [--commands ...]
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
import discord  # module level: the bare bot's command annotations are resolved from here

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from burst_bench import Driver, connect_until_ready  # noqa: E402 - the bench folder is not a package

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
BOARDS = 25
WARM_UP = 200


# -- /proc --------------------------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def children(pid: int) -> list[int]:
    """Direct children of `pid` (the embedded store is the bot's child)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return out


# -- the bare bot process -----------------------------------------------------------------------

async def run_bare(info: dict, ready_file: Path) -> None:
    """A bare AutoShardedBot with GEMS's client settings, serving until SIGTERM."""
    started = time.time()
    import logging
    import re

    from discord import app_commands
    from discord.ext import commands

    from discord_sandbox.standalone import point_discord_at

    logging.basicConfig(level=logging.WARNING)
    for noisy in ("discord.gateway", "discord.http", "discord.client", "discord.state", "pymongo", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    point_discord_at(info["base_url"])
    intents = discord.Intents.default()  # as bot.app.default_intents()
    intents.members = True
    intents.message_content = True
    balances = dict.fromkeys(info["members"], 1_000_000)

    class Next(discord.ui.DynamicItem[discord.ui.Button], template=r"bare:lb:(?P<page>\d+):next"):
        def __init__(self, page: int) -> None:
            super().__init__(discord.ui.Button(label="Next", custom_id=f"bare:lb:{page}:next"))
            self.page = page

        @classmethod
        async def from_custom_id(cls, interaction, item, match: re.Match[str]):
            return cls(int(match["page"]))

        async def callback(self, interaction: discord.Interaction) -> None:
            view = discord.ui.View(timeout=None)
            view.add_item(Next(self.page + 1))
            await interaction.response.edit_message(content=f"Leaderboard page {self.page}",
                                                    view=view)

    class Bare(commands.AutoShardedBot):
        async def login(self, token: str) -> None:
            # as cogs/_shared/response_policy.http_connector()
            self.http.connector = aiohttp.TCPConnector(limit=100, keepalive_timeout=30)
            await super().login(token)

        async def setup_hook(self) -> None:
            self.add_dynamic_items(Next)

    bot = Bare(command_prefix=commands.when_mentioned, intents=intents, help_command=None,
               allowed_mentions=discord.AllowedMentions.none())
    gems = app_commands.Group(name="gems", description="GEMS")
    market = app_commands.Group(name="market", description="Marketplace")

    @gems.command(name="balance", description="Your balance")
    async def balance(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            f"You have {balances.get(interaction.user.id, 0):,} GEMS.", ephemeral=True)

    @gems.command(name="give", description="Give GEMS")
    async def give(interaction: discord.Interaction, member: discord.Member, amount: int,
                   note: str | None = None) -> None:
        balances[interaction.user.id] -= amount
        balances[member.id] = balances.get(member.id, 0) + amount
        await interaction.response.send_message(f"You gave {amount} GEMS to {member.mention}.")

    @gems.command(name="leaderboard", description="Richest members")
    async def leaderboard(interaction: discord.Interaction) -> None:
        view = discord.ui.View(timeout=None)
        view.add_item(Next(2))
        await interaction.response.send_message("Leaderboard page 1", view=view)

    @market.command(name="browse", description="Browse listings")
    async def browse(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Listings: none.", ephemeral=True)

    bot.tree.add_command(gems)
    bot.tree.add_command(market)
    connection = await connect_until_ready(bot, info["token"])
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    ready_file.write_text(json.dumps({"started": started, "ready": time.time(), "seeding": 0.0}))
    await stop.wait()
    await bot.close()
    connection.cancel()


# -- the driver side ----------------------------------------------------------------------------

class Side:
    """One bot process, its sandbox process and a Driver for it."""

    def __init__(self, name: str, role: str, args: argparse.Namespace, tmp: Path) -> None:
        self.name, self.role, self.args = name, role, args
        self.tmp = tmp / name
        self.tmp.mkdir()
        self.sandbox: subprocess.Popen | None = None
        self.bot: subprocess.Popen | None = None
        self.driver: Driver | None = None
        self.startup = float("nan")
        self.phases: dict[str, float] = {}
        self.store: int | None = None
        #: Steady clicks Discord (the sandbox) refused because the board changed meanwhile.
        self.stale_clicks = 0

    async def start(self, http: aiohttp.ClientSession) -> None:
        py = sys.executable
        port_file, ready_file = self.tmp / "sandbox.port", self.tmp / "bot.ready"
        self.sandbox = subprocess.Popen(  # noqa: ASYNC220 - started before anything is timed
            [py, "-m", "discord_sandbox.standalone", "--port-file", str(port_file)],
            cwd=ROOT, stdout=subprocess.DEVNULL)
        for _ in range(300):
            if port_file.exists() and port_file.read_text():
                break
            await asyncio.sleep(0.1)
        control = f"http://127.0.0.1:{port_file.read_text()}"
        async with http.post(control + "/setup", json={"members": self.args.members}) as response:
            info = await response.json()
        info["listings"], info["photos"] = self.args.listings, self.args.photos
        info_file = self.tmp / "info.json"
        info_file.write_text(json.dumps(info))
        if self.role == "gems":
            cmd = [py, str(ROOT / "bench" / "burst_bench.py"), "--role", "bot"]
        else:
            cmd = [py, __file__, "--role", "bare"]
        launched = time.time()
        self.bot = subprocess.Popen([*cmd, "--info", str(info_file), "--ready", str(ready_file)],  # noqa: ASYNC220
                                    cwd=ROOT)
        for _ in range(6000):
            if (ready_file.exists() and ready_file.read_text()) or self.bot.poll() is not None:
                break
            await asyncio.sleep(0.05)
        if not ready_file.exists():
            raise RuntimeError(f"the {self.name} bot did not get ready")
        ready = json.loads(ready_file.read_text())
        self.startup = ready["ready"] - launched - ready["seeding"]
        self.phases = {name: at - launched for name, at in ready.get("phases", {}).items()}
        stores = children(self.bot.pid)
        self.store = stores[0] if stores else None
        self.driver = Driver(control, info, http)
        await self.driver.prepare_button()
        # Steady clicks go round a pool of boards, each pressed on the button it shows now
        # (discord.py drops a click on a custom id its message no longer carries).
        ids = (await self.driver.post("/burst", {"interactions": [
            {"kind": "slash", "user_id": uid, "data": {"name": "gems", "options": [
                {"type": 1, "name": "leaderboard", "options": []}]}}
            for uid in info["members"][:BOARDS]]}))["ids"]
        await self.driver.wait(ids, timeout=60)
        self.boards = ids

    async def policy_stats(self) -> dict[str, int]:
        """The GEMS bot's response policy counters now (empty for the bare bot)."""
        if self.role != "gems" or self.bot is None:
            return {}
        stats_file = (self.tmp / "bot.ready").with_suffix(".stats")
        stats_file.unlink(missing_ok=True)
        self.bot.send_signal(signal.SIGUSR1)
        for _ in range(200):
            with contextlib.suppress(OSError, ValueError):
                return json.loads(stats_file.read_text())
            await asyncio.sleep(0.02)
        return {}

    def cpu(self) -> tuple[float, float]:
        assert self.bot is not None
        return cpu_seconds(self.bot.pid), cpu_seconds(self.store) if self.store else 0.0

    def rss(self) -> tuple[float, float]:
        assert self.bot is not None
        return rss_mib(self.bot.pid), rss_mib(self.store) if self.store else 0.0

    async def measure(self, command: str, mode: str, round_no: int) -> tuple[float, float, int, int]:
        """(bot ms CPU, store ms CPU) per interaction, how many got no final answer, and how
        many GEMS's response policy deferred (a defer + an edit/followup: two HTTP calls)."""
        driver = self.driver
        assert driver is not None
        if command == "click":
            driver.button = await driver.current_button()
        await asyncio.sleep(0.3)  # let the previous run's stragglers (DMs, flushes) settle
        policy0 = await self.policy_stats()
        bot0, store0 = self.cpu()
        if mode == "burst":
            n = self.args.burst
            ids = (await driver.post("/burst", {"interactions": driver.build(command, n, round_no)}))["ids"]
        else:
            n, ids = self.args.steady, []
            items = driver.build(command, n, round_no)
            begin, gap = time.monotonic(), 1 / self.args.rate
            for i, item in enumerate(items):
                delay = begin + i * gap - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                if command == "click":
                    driver.board = self.boards[i % len(self.boards)]
                    ids += await self.click_board(item)
                    continue
                ids += (await driver.post("/burst", {"interactions": [item]}))["ids"]
        status = await driver.wait(ids, timeout=60)
        bot1, store1 = self.cpu()
        missing = sum(1 for s in status["interactions"] if s["final"] is None and not s["dm"])
        policy1 = await self.policy_stats()
        policy = {k: policy1[k] - policy0.get(k, 0) for k in policy1}
        if policy:
            print(f"  (gems {command} {mode}: the policy deferred {policy['deferred_busy']} on "
                  f"arrival ({policy.get('busy_burst', '?')} burst, {policy.get('busy_waiting', '?')} "
                  f"many waiting, {policy.get('busy_lag', '?')} loop lag), "
                  f"{policy['deferred_watchdog']} by the watchdog; "
                  f"{sum(1 for s in status['interactions'] if s['type'] in (5, 6))} first "
                  f"responses were defers)", flush=True)
        deferred = policy.get("deferred_busy", 0) + policy.get("deferred_watchdog", 0)
        return (bot1 - bot0) * 1000 / n, (store1 - store0) * 1000 / n, missing, deferred

    async def click_board(self, item: dict) -> list[str]:
        """Press the button the driver's board shows now. The board may change between reading
        it and pressing (a previous click's edit landing): Discord then refuses the click
        (component validation failed) and a member would press the new button; so does this."""
        driver = self.driver
        assert driver is not None
        for _ in range(50):
            message_id, custom_id = await driver.current_button()
            pressed = {**item, "message_id": message_id,
                       "data": {"custom_id": custom_id, "component_type": 2}}
            try:
                return (await driver.post("/burst", {"interactions": [pressed]}))["ids"]
            except aiohttp.ClientResponseError as error:
                if error.status != 400:
                    raise
                self.stale_clicks += 1
                await asyncio.sleep(0.01)
        raise RuntimeError("the board kept changing under the click")

    async def browse_many(self, count: int) -> None:
        driver = self.driver
        assert driver is not None
        for start in range(0, count, 100):
            n = min(100, count - start)
            ids = (await driver.post("/burst", {"interactions": driver.build("browse", n, 0)}))["ids"]
            await driver.wait(ids, timeout=180)

    async def stop(self) -> None:
        if self.driver is not None:
            with contextlib.suppress(aiohttp.ClientError):
                await self.driver.post("/shutdown", {})
        for proc in (self.bot, self.sandbox):
            if proc is None:
                continue
            if proc is self.bot and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def drive(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="cost-"))
    bare, gems = Side("bare", "bare", args, tmp), Side("gems", "gems", args, tmp)
    async with aiohttp.ClientSession() as http:
        try:
            load_start = load()
            await bare.start(http)
            await gems.start(http)
            print(f"{args.members} members, {args.listings} listings ({args.photos} distinct photos); "
                  f"cores {os.cpu_count()}; load {load_start} at start\n", flush=True)
            # Memory first, before the bursts inflate the heap (freed memory stays resident and
            # would hide what browsing keeps): RSS after a warm-up, then after N more browses.
            rss_start = {side.name: side.rss() for side in (bare, gems)}
            for side in (bare, gems):
                await side.browse_many(WARM_UP)
            rss_warm = {side.name: side.rss() for side in (bare, gems)}
            for side in (bare, gems):
                await side.browse_many(args.browses)
            await asyncio.sleep(1.0)
            rss_end = {side.name: side.rss() for side in (bare, gems)}
            results: dict[tuple[str, str], dict[str, list[float]]] = {}
            round_no = 0
            for rnd in range(args.rounds):
                for command in args.commands:
                    for mode in ("steady", "burst"):
                        cell = results.setdefault((command, mode), {"bare": [], "gems": [], "store": [],
                                                                    "deferred": []})
                        # alternate who goes first, so drift in the machine's load hits both
                        for side in ((bare, gems) if rnd % 2 == 0 else (gems, bare)):
                            round_no += 1
                            bot_ms, store_ms, missing, deferred = await side.measure(
                                command, mode, round_no)
                            if missing:
                                print(f"  ({side.name} {command} {mode}: {missing} without answer)")
                            cell[side.name].append(bot_ms)
                            if side is gems:
                                cell["store"].append(store_ms)
                                cell["deferred"].append(deferred)
                print(f"round {rnd + 1}/{args.rounds} done (load {load()})", flush=True)
            header = (f"{'ms CPU per interaction':<24}{'bare':>7}{'GEMS bot':>10}{'ratio':>7}"
                      f"{'+ store':>9}{'total ratio':>13}{'deferred':>10}")
            print("\n" + header + "\n" + "-" * len(header))
            for (command, mode), cell in results.items():
                b, g, s = (statistics.median(cell[k]) for k in ("bare", "gems", "store"))
                label = f"{command}, {mode}" + (f" {args.burst}" if mode == "burst" else f" {args.rate}/s")
                n = args.burst if mode == "burst" else args.steady
                d = statistics.median(cell["deferred"])
                print(f"{label:<24}{b:>7.2f}{g:>10.2f}{g / b:>6.1f}x{s:>9.2f}{(g + s) / b:>12.1f}x"
                      f"{d:>6.0f}/{n}")
            rss_after = {side.name: side.rss() for side in (bare, gems)}
            print(f"\nRSS MiB (bot / store): at READY, after {WARM_UP} browses, after {args.browses} "
                  "more browses (growth), after the rounds")
            for name in ("bare", "gems"):
                (a, sa), (b_, sb), (c, sc), (d, sd) = (
                    rss_start[name], rss_warm[name], rss_end[name], rss_after[name])
                print(f"  {name:<5} {a:6.1f} / {sa:5.1f}   {b_:6.1f} / {sb:5.1f}   {c:6.1f} / {sc:5.1f}"
                      f" ({c - b_:+.1f} MiB, {(c - b_) / b_ * 100:+.1f} %)   {d:6.1f} / {sd:5.1f}")
            print("(deferred: GEMS's interactions the response policy deferred, on arrival or by "
                  "its watchdog, then answered by an edit or a followup; median over the rounds)")
            for side in (bare, gems):
                if side.stale_clicks:
                    print(f"{side.name}: {side.stale_clicks} steady clicks pressed a button an "
                          "earlier click had just replaced (refused, pressed again)")
            print(f"\nstart-up to READY (process start, minus seeding): bare {bare.startup:.2f} s, "
                  f"GEMS {gems.startup:.2f} s ({gems.startup / bare.startup:.1f}x)")
            if gems.phases:
                print("  GEMS phases (s after process start): " + ", ".join(
                    f"{name} {at:.2f}" for name, at in gems.phases.items()))
            print(f"load at end: {load()}")
            return 0
        finally:
            await bare.stop()
            await gems.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--commands", default="balance,give,browse,click")
    parser.add_argument("--steady", type=int, default=200, help="interactions per steady run")
    parser.add_argument("--rate", type=float, default=100.0, help="steady rate per second")
    parser.add_argument("--burst", type=int, default=500, help="interactions per burst")
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--listings", type=int, default=300)
    parser.add_argument("--photos", type=int, default=20, help="distinct listing photos")
    parser.add_argument("--browses", type=int, default=1000, help="browses for the RSS check")
    parser.add_argument("--role", default="driver", choices=["driver", "bare"])
    parser.add_argument("--info", default=None)
    parser.add_argument("--ready", default=None)
    args = parser.parse_args()
    if args.role == "bare":
        asyncio.run(run_bare(json.loads(Path(args.info).read_text()), Path(args.ready)))
        return 0
    args.commands = args.commands.split(",")
    return asyncio.run(drive(args))


if __name__ == "__main__":
    sys.exit(main())
