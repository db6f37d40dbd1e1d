"""Mentorship matching quality and speed on a generated community, measured in one run.

Generates mentees and mentors with a realistic spread: a few popular skills and a long tail,
mentors 2-3 levels above most mentees, members spread over real time zones (Europe and the
Americas heavy), evening/weekend availability in local time, English plus a regional language,
mentor capacity 1-5. Then compares three assignments of the same population:
  - global: scipy linear_sum_assignment over capacity slots (the batch round)
  - greedy: mentees in arrival order each take the best free mentor (on-demand proposing)
  - random: each mentee gets a random compatible free mentor
and prints total/average score, average weighted skill coverage, matched mentees and runtime.

Run: `.venv/bin/python bench/mentorship_bench.py [--mentees 1000] [--mentors 200] [--seed 7]`
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from economy.mentorship.matching import (
    DEFAULT_SKILLS,
    Assignment,
    MenteeProfile,
    MentorProfile,
    global_assignment,
    greedy,
    merge_ranges,
    random_assignment,
    utc_mask,
)

AT = datetime(2026, 3, 2, 12, tzinfo=UTC)
# (zone, weight, regional language)
ZONES = [
    ("Europe/London", 10, None), ("Europe/Paris", 12, "French"), ("Europe/Berlin", 10, "German"),
    ("Europe/Madrid", 5, "Spanish"), ("Europe/Warsaw", 4, "Polish"),
    ("America/New_York", 14, None), ("America/Chicago", 6, None),
    ("America/Los_Angeles", 8, None), ("America/Sao_Paulo", 5, "Portuguese"),
    ("America/Mexico_City", 4, "Spanish"), ("Asia/Kolkata", 6, "Hindi"),
    ("Asia/Bangkok", 4, "Thai"), ("Asia/Tokyo", 3, "Japanese"), ("Australia/Sydney", 4, None),
    ("Asia/Dubai", 2, "Arabic"),
]


def _zone(rng: random.Random) -> tuple[str, str | None]:
    zone, _, language = rng.choices(ZONES, weights=[w for _, w, _ in ZONES])[0]
    return zone, language


def _languages(rng: random.Random, regional: str | None) -> tuple[str, ...]:
    if regional is None:
        return ("English",)
    if rng.random() < 0.25:  # some speak only their regional language
        return (regional,)
    return (regional, "English") if rng.random() < 0.5 else ("English", regional)


def _availability(rng: random.Random) -> list[tuple[int, int]]:
    ranges = []
    start = rng.choice([17, 18, 19, 20])
    for day in rng.sample(range(5), rng.randint(1, 4)):  # some weekday evenings
        ranges.append((day * 24 + start, day * 24 + start + rng.randint(1, 3)))
    if rng.random() < 0.7:  # a weekend block
        day = rng.choice([5, 6])
        begin = rng.randint(9, 15)
        ranges.append((day * 24 + begin, day * 24 + begin + rng.randint(2, 5)))
    return merge_ranges(ranges)


def _skill(rng: random.Random) -> str:
    # Zipf-like popularity: the first skills are wanted (and taught) far more often.
    weights = [1 / (rank + 1) for rank in range(len(DEFAULT_SKILLS))]
    return rng.choices(DEFAULT_SKILLS, weights=weights)[0]


def population(mentees: int, mentors: int, seed: int) -> tuple[list[MenteeProfile],
                                                                 list[MentorProfile]]:
    """Generate the community (deterministic for a seed)."""
    rng = random.Random(seed)
    teachers = []
    for uid in range(1, mentors + 1):
        zone, regional = _zone(rng)
        skills: dict[str, int] = {}
        while len(skills) < rng.randint(2, 6):
            skills[_skill(rng)] = rng.choices([2, 3, 4, 5], weights=[1, 3, 4, 2])[0]
        teachers.append(MentorProfile(uid, skills, utc_mask(_availability(rng), zone, AT),
                                      _languages(rng, regional), rng.randint(1, 5)))
    learners = []
    for uid in range(100_001, 100_001 + mentees):
        zone, regional = _zone(rng)
        wanted: dict[str, int] = {}
        while len(wanted) < rng.randint(1, 4):
            wanted[_skill(rng)] = rng.choices([0, 1, 2, 3], weights=[4, 3, 2, 1])[0]
        learners.append(MenteeProfile(uid, tuple(wanted.items()),
                                      utc_mask(_availability(rng), zone, AT),
                                      _languages(rng, regional)))
    return learners, teachers


def _row(name: str, result: Assignment, seconds: float, mentees: int) -> str:
    matched = len(result.pairs)
    avg = result.total / matched if matched else 0.0
    cov = result.coverage / matched if matched else 0.0
    return (f"{name:<8} total {result.total:8.1f}   avg/match {avg:.3f}   "
            f"avg coverage {cov:.3f}   matched {matched:4d}/{mentees}   {seconds:6.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentees", type=int, default=1000)
    parser.add_argument("--mentors", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    learners, teachers = population(args.mentees, args.mentors, args.seed)
    slots = sum(m.free_slots for m in teachers)
    print(f"{args.mentees} mentees, {args.mentors} mentors ({slots} slots), seed {args.seed}")
    started = time.perf_counter()
    global_assignment(learners[:1], teachers[:1])  # scipy's import: once per bot process
    print(f"(scipy import and warm-up: {time.perf_counter() - started:.2f} s, not counted)")
    results = {}
    for name, solve in (("global", global_assignment), ("greedy", greedy),
                        ("random", random_assignment)):
        started = time.perf_counter()
        result = solve(learners, teachers)
        results[name] = (result, time.perf_counter() - started)
        print(_row(name, result, results[name][1], args.mentees))
    best, greedy_result = results["global"][0], results["greedy"][0]
    ratio = best.total / greedy_result.total if greedy_result.total else float("inf")
    print(f"global / greedy total score: {ratio:.3f}x; global / random: "
          f"{best.total / max(results['random'][0].total, 1e-9):.3f}x")
    ok = best.total >= greedy_result.total and results["global"][1] < 5.0
    print("PASS: global beats greedy and runs under 5 s" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
