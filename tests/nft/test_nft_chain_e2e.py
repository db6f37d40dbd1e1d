"""Misconfigured and misbehaving chains end to end: the real bot in the Discord sandbox, its web
server, and the chain rig behind a faulty JSON-RPC proxy."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from eth_account import Account

from economy.nft.repo import NftRepo
from tests.nft.conftest import link_url, open_ngc

pytestmark = pytest.mark.timeout(60)


async def rules_and_wallets(gc) -> tuple[list, list]:
    rules = await gc.db["nft_rules"].find({}, {"_id": 0}).to_list()
    wallets = await gc.db["wallets"].find({}, {"_id": 0}).to_list()
    return rules, wallets


async def seed_wallets(gc, names: list[str]) -> dict[str, str]:
    addresses = {name: Account.create().address for name in names}
    await gc.services.wallets._repo.insert_many([  # with their cap places, as linking stores them
        {"guild_id": gc.guild.id, "user_id": gc[name].id, "address": address, "linked_ms": 0}
        for name, address in addresses.items()])
    return addresses


async def test_a_node_of_another_chain_is_refused_everywhere(store, clock, chain, caplog):
    caplog.set_level(logging.WARNING)
    # CHAIN_RPC_URLS="1=<a node of the rig's chain>": the bot starts, chain 1 is unusable.
    async with open_ngc(store, clock, chain, chain_rpc_urls={1: chain.url}) as gc:
        await gc.bot.get_cog("NftCog")._chain_check
        errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert any(f"chain 1 is unusable: the RPC endpoint configured for chain 1 serves chain "
                   f"{chain.chain_id}" in e for e in errors), errors
        holder = gc.sb.create_role(gc.guild, "Holder")
        before = await rules_and_wallets(gc)
        r = await gc.slash("admin", "wallet-admin rule add", contract=chain.erc721, standard="erc721",
                           role=holder)
        assert r.ephemeral and f"serves chain {chain.chain_id}" in r.text, r.text
        assert "No rule was added" in r.text and "Added rule" not in r.text
        # Wallet linking would have members sign a message for chain 1: refused too.
        link = await gc.slash("alice", "wallet link")
        token = link_url(link).rsplit("/", 1)[1]
        base = gc.bot.web.public_url
        async with gc.http.get(f"{base}/wallet/api/challenge/{token}") as resp:
            body = await resp.json()
            assert resp.status == 400 and "Wallet linking is paused" in body["error"], body
        async with gc.http.post(f"{base}/wallet/api/verify", json={
                "token": token, "message": "x", "signature": "0x00"}) as resp:
            assert resp.status == 400 and "paused" in (await resp.json())["error"]
        assert await rules_and_wallets(gc) == before
        # A rule stored while the URL still pointed at chain 1: the sync reads nothing there.
        await NftRepo(gc.services.db).insert_rule({
            "guild_id": gc.guild.id, "role_id": holder.id, "chain_id": 1,
            "contract": chain.erc721, "standard": "erc721", "ranges": [], "min_count": 1,
            "max_count": None, "group": None, "created_by": 0, "created_ms": 0}, cap=25)
        await seed_wallets(gc, ["bob"])
        gc.sb.give_role(gc.sb.member(gc.guild, gc["bob"]), holder)  # bob holds nothing
        await gc.sb.settle()
        r = await gc.slash("admin", "wallet-admin sync")
        assert "0 roles given, 0 taken" in r.text and f"serves chain {chain.chain_id}" in r.text
        await gc.sb.settle()
        assert holder.id in gc.sb.member(gc.guild, gc["bob"]).roles
        status = await gc.slash("admin", "wallet-admin status")
        assert "configured for chain 1 serves chain" in status.text, status.text


async def test_an_empty_answer_is_reported_and_recorded_not_a_crash(store, clock, chain, faulty):
    async with open_ngc(store, clock, chain, chain_rpc_urls={chain.chain_id: faulty.url}) as gc:
        holder = gc.sb.create_role(gc.guild, "Holder")
        await gc.slash("admin", "wallet-admin rule add", contract=chain.erc721, standard="erc721",
                       role=holder)
        wallets = await seed_wallets(gc, ["alice", "bob"])
        chain.mint721(list(wallets.values()), 1)
        r = await gc.slash("admin", "wallet-admin sync")
        assert "2 roles given" in r.text, r.text
        await gc.sb.settle()
        edits = len(gc.sb.role_events)
        faulty.fault("empty", method="eth_blockNumber")  # "0x": no number at all
        clock.advance(minutes=5)
        r = await gc.slash("admin", "wallet-admin sync")
        assert "something went wrong" not in r.text.lower(), r.text
        assert "0 roles given, 0 taken" in r.text and "unknown" in r.text, r.text
        await gc.sb.settle()
        assert len(gc.sb.role_events) == edits
        status = await gc.slash("admin", "wallet-admin status")
        # The latest sync is the one recorded, with its error (no block read).
        assert "Blocks: none" in status.text and "left alone (unknown): 2" in status.text
        assert "eth_blockNumber: the result is not a number" in status.text, status.text
        assert "roles that depend on it were left alone" in status.text


async def test_status_tells_no_code_from_a_failed_network(store, clock, chain, faulty):
    async with open_ngc(store, clock, chain, chain_rpc_urls={chain.chain_id: faulty.url}) as gc:
        holder = gc.sb.create_role(gc.guild, "Holder")
        gone = Account.create().address  # a contract that is no longer there (or never was)
        await NftRepo(gc.services.db).insert_rule({
            "guild_id": gc.guild.id, "role_id": holder.id,
            "chain_id": chain.chain_id, "contract": gone, "standard": "erc721", "ranges": [],
            "min_count": 1, "max_count": None, "group": None, "created_by": 0, "created_ms": 0}, cap=25)
        await seed_wallets(gc, ["alice"])
        gc.sb.give_role(gc.sb.member(gc.guild, gc["alice"]), holder)
        await gc.sb.settle()
        await gc.slash("admin", "wallet-admin sync")
        status = await gc.slash("admin", "wallet-admin status")
        assert f"the contract {gone} has no code on chain {chain.chain_id}" in status.text, \
            status.text
        await gc.slash("admin", "wallet-admin rule remove", rule=1)
        await gc.slash("admin", "wallet-admin rule add", contract=chain.erc721, standard="erc721",
                       role=holder)
        faulty.fault("html", method="eth_call")  # a gateway's error page instead of JSON
        await gc.slash("admin", "wallet-admin sync")
        status = await gc.slash("admin", "wallet-admin status")
        assert f"the RPC endpoint of chain {chain.chain_id} failed: eth_call: the answer is " \
               "not JSON" in status.text, status.text
        assert "has no code" not in status.text and "aggregator" not in status.text
        assert holder.id in gc.sb.member(gc.guild, gc["alice"]).roles  # nothing removed


async def test_status_names_a_missing_aggregator(store, clock, chain):
    wrong = Account.create().address
    async with open_ngc(store, clock, chain, multicall3_address=wrong) as gc:
        holder = gc.sb.create_role(gc.guild, "Holder")
        await gc.slash("admin", "wallet-admin rule add", contract=chain.erc721, standard="erc721",
                       role=holder)
        await seed_wallets(gc, ["alice"])
        gc.sb.give_role(gc.sb.member(gc.guild, gc["alice"]), holder)
        await gc.sb.settle()
        r = await gc.slash("admin", "wallet-admin sync")
        assert "0 roles given, 0 taken" in r.text
        status = await gc.slash("admin", "wallet-admin status")
        assert f"no aggregator (Multicall3) contract at {wrong}" in status.text, status.text
        assert "MULTICALL3_ADDRESS" in status.text and "has no code" not in status.text


@pytest.mark.slow  # waits out a wall-clock deadline
async def test_a_hanging_node_ends_the_sync_at_its_deadline_while_others_write(
        store, clock, chain, faulty):
    async with open_ngc(store, clock, chain, chain_rpc_urls={chain.chain_id: faulty.url},
                        chain_timeout_seconds=30, chain_sync_deadline_seconds=2) as gc:
        holder = gc.sb.create_role(gc.guild, "Holder")
        await gc.slash("admin", "wallet-admin rule add", contract=chain.erc721, standard="erc721",
                       role=holder)
        wallets = await seed_wallets(gc, ["alice", "bob"])
        chain.mint721([wallets["alice"]], 1)
        gc.sb.give_role(gc.sb.member(gc.guild, gc["bob"]), holder)
        await gc.sb.settle()
        faulty.calls.clear()
        faulty.fault("hang", after=2)  # eth_chainId, eth_blockNumber, then nothing
        started = time.monotonic()
        sync = asyncio.create_task(gc.slash("admin", "wallet-admin sync", timeout=30))
        assert await asyncio.to_thread(faulty.hanging.wait, 10)
        link = await gc.slash("carol", "wallet link")  # stores a link ticket meanwhile
        assert "expires" in link.text and not sync.done()
        r = await sync
        assert time.monotonic() - started < 2 + 10  # the 2 s deadline (generous), not 30 s
        assert "0 roles given, 0 taken" in r.text and "3 RPC calls" in r.text, r.text
        await gc.sb.settle()
        assert holder.id in gc.sb.member(gc.guild, gc["bob"]).roles  # unknown: kept
        status = await gc.slash("admin", "wallet-admin status")
        assert "stopped after the first timeout" in status.text and "RPC calls: 3" in status.text
