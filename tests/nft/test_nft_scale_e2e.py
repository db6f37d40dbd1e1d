"""2,000 linked members x 3 rules (500 in the everyday run: tests/depth.py) through the real bot: RPC calls counted, Discord role edits
equal the exact diff, and an unchanged second sync edits nothing."""

from __future__ import annotations

import random
import time

import pytest
from eth_account import Account

from tests.depth import deep

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

N = deep(500, 2000)
#: Holders of the ERC-721, of its "rare" ids (1..RARE) and of the ERC-1155: the same shares of
#: the members at every size.
HOLDERS, RARE, GEMS = N * 9 // 20, N * 3 // 20, N // 5


async def test_many_members_three_rules_exact_discord_edits(ngc):
    gc, chain = ngc, ngc.chain
    started = time.perf_counter()
    any_role, rare, gem = (gc.sb.create_role(gc.guild, n) for n in ("Holder", "Rare", "Gem"))
    await gc.slash("admin", "wallet-admin rule add", contract=chain.erc721, standard="erc721", role=any_role)
    await gc.slash("admin", "wallet-admin rule add", contract=chain.erc721, standard="erc721", role=rare,
                   token_ids=f"1-{RARE}")
    await gc.slash("admin", "wallet-admin rule add", contract=chain.erc1155, standard="erc1155", role=gem,
                   token_ids="7", min_count=2)
    rng = random.Random(3)
    members = [gc.add_member(f"m{i:04d}") for i in range(N)]
    wallets = {m.id: Account.create().address for m in members}
    await gc.services.wallets._repo.insert_many([
        {"guild_id": gc.guild.id, "user_id": uid, "address": a, "linked_ms": 0}
        for uid, a in wallets.items()])
    holders = rng.sample(members, HOLDERS)
    chain.mint721([wallets[m.id] for m in holders], 1)
    gem_holders = rng.sample(members, GEMS)
    chain.mint1155([wallets[m.id] for m in gem_holders], 7, amount=2)
    stale = [m for m in members if m not in holders][:N // 50]  # hold "Holder" without a token
    for m in stale + holders[:N // 20]:
        gc.sb.give_role(m, any_role)
    await gc.sb.settle()
    setup = time.perf_counter() - started

    chain.calls.clear()
    edits_before = len(gc.sb.role_events)
    r = await gc.slash("admin", "wallet-admin sync", timeout=90)
    expected = ({(m.id, any_role.id, "add") for m in holders[N // 20:]}
                | {(m.id, any_role.id, "remove") for m in stale}
                | {(m.id, rare.id, "add") for m in holders[:RARE]}
                | {(m.id, gem.id, "add") for m in gem_holders})
    events = [(e.user_id, e.role_id, e.action) for e in gc.sb.role_events[edits_before:]]
    assert len(events) == len(expected) and set(events) == expected
    per_thousand_per_rule = chain.total_calls / (N / 1000) / 3
    assert per_thousand_per_rule <= 5, chain.calls
    assert f"Checked {N:,} wallets" in r.text and f"{chain.total_calls:,} RPC calls" in r.text

    chain.calls.clear()
    r = await gc.slash("admin", "wallet-admin sync", timeout=90)
    assert "0 roles given, 0 taken" in r.text
    assert len(gc.sb.role_events) == edits_before + len(expected)
    print(f"setup {setup:.1f} s, {len(expected)} edits, RPC calls per 1,000 wallets per rule "
          f"{per_thousand_per_rule:.2f}, total {time.perf_counter() - started:.1f} s")
