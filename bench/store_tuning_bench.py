"""The embedded store with and without bot/store_tuning.py, side by side in one run.

    .venv/bin/python bench/store_tuning_bench.py [--postings 200000] [--rounds 2]

For each round, two fresh on-disk embedded stores (one untuned, one with every tuning) get the same
keyword postings (the shape `listing_terms` stores, four sort indexes, one transaction per 5,000),
then the same reads a keyword search makes (a capped count and a page of an index walk, for a
common and a rare word). Prints per-operation costs, the tuned/untuned ratios, and then what leaving
out each tuning costs. Rounds alternate the order (untuned first, then tuned
first) so a machine that warms up or slows down does not favour one side.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import store_tuning
from bot.store import open_store
from economy.marketplace.terms_repo import postings_of

WORDS = [f"word{i:02d}" for i in range(40)] + ["rare"]
GUILD = 1


def listings(n: int, rnd: random.Random) -> list[dict]:
    """Active listing documents with 7 keywords each (one in 500 has the rare word)."""
    out = []
    for i in range(1, n + 1):
        words = rnd.sample(WORDS[:-1], 7) + (["rare"] if i % 500 == 0 else [])
        out.append({"_id": i, "guild_id": GUILD, "listing_id": i, "status": "active",
                    "keywords": words, "category": rnd.choice(("rings", "necklaces")),
                    "condition": "new", "price_gems": rnd.randrange(1, 100_000),
                    "price_usd_cents": None, "listed_ts": 1_700_000_000_000 + i,
                    "popularity": rnd.randrange(500)})
    return out


async def one_store(tunings: tuple[str, ...] | None, postings: list[dict],
                    reads: int) -> dict[str, float]:
    """ms per posting inserted, and ms per search read, on a fresh on-disk store."""
    migration = __import__("importlib").import_module("migrations.0004_listing_terms")
    with tempfile.TemporaryDirectory(prefix="gems-tuning-bench-") as data_dir:
        async with await open_store(mongodb_uri=None, database_name="bench", data_dir=data_dir,
                                    tunings=tunings) as store:
            db = store.db.raw
            await migration.create_indexes(db)
            col = db["listing_terms"]
            started = time.perf_counter()
            for i in range(0, len(postings), migration.POSTINGS_PER_WRITE):
                chunk = postings[i:i + migration.POSTINGS_PER_WRITE]

                async def work(session, chunk=chunk) -> None:
                    await col.insert_many(chunk, ordered=False, session=session)

                async with db.client.start_session() as session:
                    await session.with_transaction(work)
            insert_ms = (time.perf_counter() - started) * 1000 / len(postings)
            result = {"insert": insert_ms}
            for label, term in (("common word", "word07"), ("rare word", "rare")):
                samples = []
                for _ in range(reads):
                    t0 = time.perf_counter()
                    cursor = await col.aggregate([{"$match": {"guild_id": GUILD, "term": term}},
                                                  {"$limit": 1000}, {"$count": "n"}])
                    await cursor.to_list()
                    cursor = await col.aggregate([{"$match": {"guild_id": GUILD, "term": term}},
                                                  {"$sort": {"listed_ts": -1, "listing_id": -1}},
                                                  {"$limit": 10}])
                    await cursor.to_list()
                    samples.append((time.perf_counter() - t0) * 1000)
                result[label] = statistics.median(samples)
            return result


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postings", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reads", type=int, default=30)
    args = parser.parse_args()
    docs = []
    for listing in listings(args.postings // 7 + 1, random.Random(7)):
        docs += postings_of(listing)
    docs = docs[:args.postings]
    every = tuple(store_tuning.TUNINGS)
    runs: dict[str, list[dict[str, float]]] = {"untuned": [], "tuned": []}
    for round_no in range(args.rounds):
        order = [("untuned", ()), ("tuned", every)]
        for name, tunings in order if round_no % 2 == 0 else order[::-1]:
            runs[name].append(await one_store(tunings, docs, args.reads))
    print(f"{len(docs):,} postings, 4 sort indexes, on disk; medians of {args.rounds} rounds")
    print(f"  {'':<34} {'untuned':>10} {'tuned':>10} {'untuned/tuned':>14}")
    for key, unit in (("insert", "ms/posting"), ("common word", "ms/search"),
                      ("rare word", "ms/search")):
        before = statistics.median(r[key] for r in runs["untuned"])
        after = statistics.median(r[key] for r in runs["tuned"])
        print(f"  {key + ' (' + unit + ')':<34} {before:10.3f} {after:10.3f} "
              f"{before / after:13.2f}x")
    print("\nevery tuning but one, inserts and a common-word search (one round each):")
    tuned = statistics.median(r["insert"] for r in runs["tuned"])
    tuned_read = statistics.median(r["common word"] for r in runs["tuned"])
    for name in every:
        without = await one_store(tuple(t for t in every if t != name), docs, args.reads)
        print(f"  without {name:<54} {without['insert']:.3f} ms/posting "
              f"({without['insert'] / tuned:.2f}x tuned), search {without['common word']:.1f} ms "
              f"({without['common word'] / tuned_read:.2f}x)")


if __name__ == "__main__":
    asyncio.run(main())
