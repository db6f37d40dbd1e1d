"""Wallet linking and NFT roles end to end: sandbox Discord, the bot's web server, the chain rig."""

from __future__ import annotations

import pytest
from eth_account import Account

from economy.core.actor import Actor
from tests.nft.conftest import challenge_for, link_url, link_wallet, post_signed
from tests.nft.helpers import message_from, sign

pytestmark = pytest.mark.timeout(60)


async def nft_state(gc) -> tuple:
    wallets = await gc.db["wallets"].find({}, {"_id": 0}).to_list()
    rules = await gc.db["nft_rules"].find({}, {"_id": 0}).to_list()
    return sorted(map(repr, wallets)), sorted(map(repr, rules))


def roles_of(gc, name: str) -> set[int]:
    return set(gc.sb.member(gc.guild, gc[name]).roles)


async def test_healthz_and_security_headers(ngc):
    async with ngc.http.get(f"{ngc.bot.web.public_url}/healthz") as resp:
        assert resp.status == 200 and (await resp.json())["ok"] is True  # checks: issue 16
    r = await ngc.slash("alice", "wallet link")
    assert r.ephemeral and "expires" in r.content
    async with ngc.http.get(link_url(r)) as resp:
        page = await resp.text()
        assert resp.status == 200 and '<script src="/wallet/static/link.js">' in page
        assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
        assert resp.headers["Referrer-Policy"] == "no-referrer"
        assert "http" not in page.split("<body>")[1]  # no third-party resources


async def test_link_gives_the_holder_role_at_once(ngc):
    gc, chain = ngc, ngc.chain
    holder = gc.sb.create_role(gc.guild, "Holder")
    r = await gc.slash("admin", "wallet-admin rule add", contract=chain.erc721, standard="erc721", role=holder)
    assert r.ephemeral and "Added rule #1" in r.text, r.text
    account = Account.create()
    chain.mint721([account.address], 1)
    _, status, body = await link_wallet(gc, "alice", account)
    assert status == 200 and body["address"] == account.address and "Holder" in body["roles_text"]
    await gc.sb.settle()
    assert holder.id in roles_of(gc, "alice")
    r = await gc.slash("alice", "wallet list")
    assert account.address in r.content and r.ephemeral
    looked = await gc.slash("mod", "wallet-admin lookup", address=account.address.lower())
    assert f"<@{gc['alice'].id}>" in looked.content
    denied = await gc.slash("bob", "wallet-admin lookup", member=gc["alice"])
    assert "Only moderators" in denied.content
    # Unlinking takes the role away again (a definite answer: no wallets, no tokens).
    r = await gc.slash("alice", "wallet unlink", address=account.address)
    assert "Unlinked" in r.text and "1 taken" in r.text, r.text
    await gc.sb.settle()
    assert holder.id not in roles_of(gc, "alice")


async def test_web_attacks_link_nothing(ngc):
    gc = ngc
    before = await nft_state(gc)
    acct, other = Account.create(), Account.create()
    r = await gc.slash("alice", "wallet link")
    token, fields = await challenge_for(gc, link_url(r))
    r2 = await gc.slash("bob", "wallet link")
    token_bob, fields_bob = await challenge_for(gc, link_url(r2))
    good = message_from(fields, acct.address).text()
    attacks = [
        (token, good, sign(good, other.key), "another address"),
        (token, message_from(fields, acct.address, domain="evil.example").text(), None, "domain"),
        (token, message_from(fields, acct.address, chain_id=1).text(), None, "chain"),
        (token, message_from(fields, acct.address, nonce=fields_bob["nonce"]).text(), None, "nonce"),
        (token_bob, good, None, "mismatch"),  # alice's message on bob's link
        (token, "garbage", None, "Sign-In"),
    ]
    for tok, msg, signature, expected in attacks:
        status, body = await post_signed(gc, tok, msg, signature or sign(msg, acct.key))
        assert status == 400 and expected.lower() in body["error"].lower(), (expected, body)
    async with gc.http.post(f"{gc.bot.web.public_url}/wallet/api/verify", data=b"{") as resp:
        assert resp.status == 400
    status, body = await post_signed(gc, "nope", good, sign(good, acct.key))
    assert status == 404
    assert await nft_state(gc) == before
    status, body = await post_signed(gc, token, good, sign(good, acct.key))
    assert status == 200
    status, body = await post_signed(gc, token, good, sign(good, acct.key))  # replay
    assert status == 400 and "already used" in body["error"]
    async with gc.http.get(f"{gc.bot.web.public_url}/wallet/api/challenge/{token}") as resp:
        assert resp.status == 400  # the used link cannot even be opened again


async def test_rule_refusals_change_nothing(ngc):
    gc, chain = ngc, ngc.chain
    above = gc.sb.create_role(gc.guild, "Whale", above_bot=True)
    holder = gc.sb.create_role(gc.guild, "Holder")
    before = await nft_state(gc)
    r = await gc.slash("admin", "wallet-admin rule add", contract=chain.erc721, standard="erc721", role=above)
    assert r.ephemeral and "above my highest role" in r.text
    r = await gc.slash("admin", "wallet-admin rule add", contract=Account.create().address,
                       standard="erc721", role=holder)
    assert "is not a contract" in r.text
    r = await gc.slash("admin", "wallet-admin rule add", contract=chain.erc1155, standard="erc1155",
                       role=holder)
    assert "need the token id" in r.text
    r = await gc.slash("admin", "wallet-admin rule add", contract=chain.erc721, standard="erc721",
                       role=holder, chain=5)
    assert "no RPC endpoint for chain 5" in r.text
    r = await gc.slash("bob", "wallet-admin rule add", contract=chain.erc721, standard="erc721", role=holder)
    assert "Only server admins" in r.text
    assert await nft_state(gc) == before


async def test_guild_sync_honours_429_reports_hierarchy_once_and_runs_periodically(ngc):
    gc, chain = ngc, ngc.chain
    log_channel = gc.sb.create_channel(gc.guild, "nft-log")
    await gc.slash("admin", "settings set", key="nft_log_channel_id", value=str(log_channel.id))
    holder = gc.sb.create_role(gc.guild, "Holder")
    rare = gc.sb.create_role(gc.guild, "Rare holder")
    await gc.slash("admin", "wallet-admin rule add", contract=chain.erc721, standard="erc721", role=holder)
    await gc.slash("admin", "wallet-admin rule add", contract=chain.erc1155, standard="erc1155", role=rare,
                   token_ids="7", min_count=2)
    whale = gc.sb.create_role(gc.guild, "Whale", above_bot=True)  # moved above the bot later
    await gc.services.nft.add_rule(gc.guild.id, Actor.system(), chain_id=chain.chain_id, contract=chain.erc721,
                                   standard="erc721", role_id=whale.id, min_count=2)
    accounts = {}
    for name in ("alice", "bob", "carol", "dave"):
        accounts[name] = Account.create()
        await gc.services.wallets._repo.insert_many([{
            "guild_id": gc.guild.id, "user_id": gc[name].id, "address": accounts[name].address,
            "linked_ms": 0}])
    chain.mint721([accounts["alice"].address, accounts["alice"].address, accounts["bob"].address], 1)
    chain.mint1155([accounts["carol"].address], 7, amount=2)
    gc.sb.give_role(gc.sb.member(gc.guild, gc["dave"]), holder)  # dave holds nothing
    await gc.sb.settle()
    gc.sb.rate_limit("PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}", times=2,
                     retry_after=0.05)
    edits_before = len(gc.sb.role_events)
    r = await gc.slash("admin", "wallet-admin sync")
    assert "3 roles given, 1 taken" in r.text and "above my highest role" in r.text, r.text
    assert len(gc.sb.rate_limited) == 2
    events = [(e.user_id, e.role_id, e.action) for e in gc.sb.role_events[edits_before:]]
    assert sorted(events) == sorted([
        (gc["alice"].id, holder.id, "add"), (gc["bob"].id, holder.id, "add"),
        (gc["carol"].id, rare.id, "add"), (gc["dave"].id, holder.id, "remove")])
    warnings = [m for m in gc.sb.channel_messages(log_channel) if "Whale" in m.content or str(whale.id) in m.content]
    assert len(warnings) == 1
    # Nothing changed on chain: a second sync makes zero edits and does not report again.
    r = await gc.slash("admin", "wallet-admin sync")
    assert "0 roles given, 0 taken" in r.text
    assert len(gc.sb.role_events) == edits_before + 4
    assert len([m for m in gc.sb.channel_messages(log_channel) if str(whale.id) in m.content]) == 1
    status = await gc.slash("admin", "wallet-admin status")
    assert "Wallets checked: 4" in status.text and "RPC calls" in status.text
    assert "above my highest role" in status.text
    # Bob sells his token to dave; the periodic sweep picks it up after nft_sync_minutes.
    chain.transfer721(accounts["bob"].address, accounts["dave"].address, 3)
    await gc.advance(minutes=1)  # first sweep claims the guild and syncs
    await gc.advance(minutes=31)
    await gc.sb.settle()
    assert holder.id not in roles_of(gc, "bob") and holder.id in roles_of(gc, "dave")


async def test_rule_test_list_remove_and_member_refresh(ngc):
    gc, chain = ngc, ngc.chain
    holder = gc.sb.create_role(gc.guild, "Holder")
    await gc.slash("admin", "wallet-admin rule add", contract=chain.erc721, standard="erc721", role=holder,
                   token_ids="1-5, 9", max_count=3)
    account = Account.create()
    chain.mint721([account.address] * 2, 1)
    await gc.services.wallets._repo.insert_many([{
        "guild_id": gc.guild.id, "user_id": gc["erin"].id, "address": account.address,
        "linked_ms": 0}])
    r = await gc.slash("admin", "wallet-admin rule test", member=gc["erin"])
    assert "holds 2" in r.text and "qualifies" in r.text and "❌" not in r.text, r.text
    assert holder.id not in roles_of(gc, "erin")  # a test changes nothing
    r = await gc.slash("erin", "wallet refresh")
    assert "1 role given" in r.text
    listed = await gc.slash("admin", "wallet-admin rule list")
    assert "ids 1-5, 9" in listed.text and "1–3" in listed.text
    r = await gc.slash("admin", "wallet-admin rule remove", rule=1)
    assert "Removed rule #1" in r.text
    r = await gc.slash("admin", "wallet-admin rule remove", rule=1)
    assert "no NFT rule #1" in r.text


async def test_a_sale_shows_up_within_one_log_poll(ngc):
    gc, chain = ngc, ngc.chain
    holder = gc.sb.create_role(gc.guild, "Holder")
    await gc.slash("admin", "wallet-admin rule add", contract=chain.erc721, standard="erc721", role=holder)
    seller, buyer = Account.create(), Account.create()
    wallets = {"alice": seller, "bob": buyer}
    for name, account in wallets.items():
        await gc.services.wallets._repo.insert_many([{
            "guild_id": gc.guild.id, "user_id": gc[name].id, "address": account.address,
            "linked_ms": 0}])
    chain.mint721([seller.address], 1)
    await gc.slash("admin", "wallet-admin sync")
    cog = gc.bot.get_cog("NftCog")
    await cog.sync.follow_transfers()  # starts following at the head
    await gc.sb.settle()
    assert holder.id in roles_of(gc, "alice") and holder.id not in roles_of(gc, "bob")
    chain.transfer721(seller.address, buyer.address, 1)
    chain.calls.clear()
    await cog.sync.follow_transfers()
    await gc.sb.settle()
    assert holder.id not in roles_of(gc, "alice") and holder.id in roles_of(gc, "bob")
    status = await gc.slash("admin", "wallet-admin status")
    assert "transfers (2 members)" in status.text and "Wallets checked: 2" in status.text
    assert chain.calls["eth_getLogs"] == 1 and chain.calls["eth_call"] == 1


async def test_gallery_lists_token_ids_per_collection(ngc):
    gc, chain = ngc, ngc.chain
    holder, rare, gem = (gc.sb.create_role(gc.guild, n) for n in ("Holder", "Rare", "Gem"))
    await gc.slash("admin", "wallet-admin rule add", contract=chain.erc721, standard="erc721", role=holder)
    await gc.slash("admin", "wallet-admin rule add", contract=chain.erc721, standard="erc721", role=rare,
                   token_ids="1-3")
    await gc.slash("admin", "wallet-admin rule add", contract=chain.erc1155, standard="erc1155", role=gem,
                   token_ids="7-8")
    w1, w2 = Account.create(), Account.create()
    for account in (w1, w2):
        await gc.services.wallets._repo.insert_many([{
            "guild_id": gc.guild.id, "user_id": gc["carol"].id, "address": account.address,
            "linked_ms": 0}])
    chain.mint721([w1.address, gc.chain.accounts[3], w2.address, w1.address], 1)  # ids 1-4
    chain.mint1155([w2.address], 8, amount=5)
    r = await gc.slash("bob", "wallet gallery", member=gc["carol"])
    assert r.ephemeral and "carol's NFT gallery" in r.text
    assert "3 tokens, among them #1, #3" in r.text and "5 tokens: #8 ×5" in r.text, r.text
    empty = await gc.slash("dave", "wallet gallery")
    assert "No linked wallets" in empty.text


@pytest.mark.parametrize("mode", ["garbage", "error"])
async def test_a_node_failing_mid_sync_takes_no_role_away(ngc, mode):
    gc, chain = ngc, ngc.chain
    holder = gc.sb.create_role(gc.guild, "Holder")
    await gc.slash("admin", "wallet-admin rule add", contract=chain.erc721, standard="erc721", role=holder)
    for name in ("alice", "bob"):
        account = Account.create()
        chain.mint721([account.address], 10 if name == "alice" else 11)
        await gc.services.wallets._repo.insert_many([{
            "guild_id": gc.guild.id, "user_id": gc[name].id, "address": account.address,
            "linked_ms": 0}])
    await gc.slash("admin", "wallet-admin sync")
    await gc.sb.settle()
    assert holder.id in roles_of(gc, "alice") and holder.id in roles_of(gc, "bob")
    edits = len(gc.sb.role_events)
    chain.inject(mode)  # the aggregate3 read fails: every answer is unknown
    r = await gc.slash("admin", "wallet-admin sync")
    assert "0 roles given, 0 taken" in r.text and "unknown" in r.text, r.text
    assert len(gc.sb.role_events) == edits
    status = await gc.slash("admin", "wallet-admin status")
    assert "left alone (unknown): 2" in status.text and "rule #1" in status.text
