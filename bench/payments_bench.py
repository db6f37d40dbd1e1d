"""Card payment throughput on the embedded store against the local Stripe API double.

Measures, in one run (shared machines are noisy; compare ratios across runs):
  - checkouts/s: GEMS-pack Checkout Sessions created concurrently (DB record + Stripe call)
  - webhooks/s: distinct signed `completed` events verified and applied (one mint each)
  - replays/s: the same events delivered again (recognised by id, nothing applied)
and checks that every pack was minted exactly once (ledger audit).

Run: `.venv/bin/python bench/payments_bench.py [--buyers 100]`
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bot.store import open_store
from devtools.stripe_double import StripeDouble
from economy.core.actor import Actor
from economy.core.audit import audit
from economy.core.clock import ManualClock
from economy.core.migrations import Migrator
from economy.payments.stripe_gateway import StripeGateway
from economy.services import build_services

G = 1
KEY, HOOK = "sk_test_benchdouble000000000", "whsec_benchsecret00000000"


async def bench(buyers: int) -> None:
    clock = ManualClock()
    async with await open_store(mongodb_uri=None, database_name="bench", data_dir="memory") as store, \
            StripeDouble(KEY, clock=lambda: clock.now().timestamp()) as double:
        await Migrator(store.db, clock).apply_pending()
        s = build_services(store.db, clock)
        gateway = StripeGateway(KEY, HOOK, api_base=double.url)
        s.payments.stripe.configure(gateway, lambda: "http://bench.test")
        for key in ("payments_usd", "payments_packs"):
            await s.settings.set(G, Actor.system(), key, "yes")
        pack = await s.payments.packs.add(G, Actor.system(), 500, "2.99")

        t = time.perf_counter()
        links = await asyncio.gather(*[s.payments.checkout.for_pack(G, 100 + b, pack["pack_id"])
                                       for b in range(buyers)])
        checkout_rate = buyers / (time.perf_counter() - t)

        bodies = [double.signed(double.complete(link.url.rsplit("/", 1)[1]), HOOK)
                  for link in links]
        t = time.perf_counter()
        first = await asyncio.gather(*[s.payments.settlement.handle_webhook(b.encode(), h) for b, h in bodies])
        webhook_rate = buyers / (time.perf_counter() - t)
        t = time.perf_counter()
        again = await asyncio.gather(*[s.payments.settlement.handle_webhook(b.encode(), h) for b, h in bodies])
        replay_rate = buyers / (time.perf_counter() - t)
        await gateway.close()

        minted = sum(o.result == "pack_minted" for o in first)
        replayed = sum(o.result == "duplicate" for o in again)
        report = await audit(s.db)
        print(f"buyers: {buyers}")
        print(f"checkouts/s: {checkout_rate:,.0f}")
        print(f"webhooks/s (verified + minted): {webhook_rate:,.0f}")
        print(f"replays/s (recognised by event id): {replay_rate:,.0f}")
        print(f"replay/apply speed ratio: {replay_rate / webhook_rate:.1f}x")
        print(f"minted once each: {minted == buyers} ({minted}); replays applied nothing: "
              f"{replayed == buyers}; audit ok: {report.ok}")


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--buyers", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(bench(args.buyers))


if __name__ == "__main__":
    main()
