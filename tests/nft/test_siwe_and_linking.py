"""EIP-4361 parsing/verification and the wallet-link service: every attack leaves nothing linked."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from eth_account import Account

from economy.core.errors import InvalidInput, NotFound
from economy.nft.siwe import SiweError, SiweMessage, parse
from tests.nft.helpers import PUBLIC_URL, message_from, sign

pytestmark = pytest.mark.timeout(60)
G, ALICE, BOB = 10, 1, 2
CHAIN = 1


async def ticket(services, user=ALICE, name="alice"):
    t = await services.wallets.start_link(G, user, member_name=name, guild_name="Gem <Collectors>",
                                          public_url=PUBLIC_URL)
    ch = await services.wallets.challenge(t.token, public_url=PUBLIC_URL, chain_id=CHAIN)
    return t, ch


async def submit(services, token, msg: SiweMessage | str, signature: str):
    text = msg if isinstance(msg, str) else msg.text()
    return await services.wallets.complete(token, text, signature, public_url=PUBLIC_URL,
                                           chain_id=CHAIN)


async def linked(services):
    return await services.db["wallets"].count_documents({})


def test_message_round_trip_and_strict_parse():
    acct = Account.create()
    msg = SiweMessage(domain="gems.example.org", address=acct.address, statement="Hi there.",
                      uri="https://gems.example.org/x", version="1", chain_id=1,
                      nonce="abcDEF123", issued_at="2026-01-05T12:00:00Z",
                      expiration_time="2026-01-05T12:10:00Z", request_id="tok")
    assert parse(msg.text()) == msg
    no_statement = replace(msg, statement=None)
    assert parse(no_statement.text()) == no_statement
    bad = [
        msg.text().replace("Version: 1\n", ""),  # missing field
        msg.text().replace("Nonce: abcDEF123", "Nonce: short"),
        msg.text().replace("Chain ID: 1", "Chain ID: one"),
        msg.text().replace("2026-01-05T12:00:00Z", "yesterday"),
        msg.text().replace("URI: ", "Uri: "),
        msg.text().replace("\n", "\r\n"),
        msg.text() + "\nExtra: field",
        "\n".join(reversed(msg.text().split("\n"))),
        "hello",
        msg.text().replace(acct.address, acct.address[:-1]),
    ]
    for text in bad:
        with pytest.raises(SiweError):
            parse(text)


async def test_link_happy_path_and_statement_names_member(services):
    t, ch = await ticket(services)
    assert t.url == f"{PUBLIC_URL}/wallet/link/{t.token}" and ch["requestId"] == t.token
    assert ch["domain"] == "gems.example.org" and len(ch["nonce"]) >= 8
    assert "alice (id 1)" in ch["statement"] and "Gem Collectors" in ch["statement"]
    acct = Account.create()
    msg = message_from(ch, acct.address)
    result = await submit(services, t.token, msg, sign(msg.text(), acct.key))
    assert (result.user_id, result.address) == (ALICE, acct.address)
    assert await services.wallets.wallets(G, ALICE) == [acct.address]


async def test_every_attack_is_refused_and_links_nothing(services, clock):
    t, ch = await ticket(services)
    acct, other = Account.create(), Account.create()
    good = message_from(ch, acct.address)
    _, ch_bob = await ticket(services, BOB, "bob")
    cases = {
        "domain": (message_from(ch, acct.address, domain="evil.example.org"), None),
        "URI": (message_from(ch, acct.address, uri="https://evil.example.org/wallet/link/x"), None),
        "chain": (message_from(ch, acct.address, chain_id=5), None),
        "nonce": (message_from(ch, acct.address, nonce=ch_bob["nonce"]), None),
        "request id": (message_from(ch, acct.address, request_id=ch_bob["requestId"]), None),
        "statement": (message_from(ch, acct.address, statement=ch_bob["statement"]), None),
        "EIP-55": (message_from(ch, acct.address.lower()), None),
        "another address": (good, sign(good.text(), other.key)),
        "outlives": (message_from(ch, acct.address, expiration_time="2030-01-01T00:00:00Z"), None),
        "future": (message_from(ch, acct.address, issued_at="2030-01-01T00:00:00Z"), None),
        "version": (message_from(ch, acct.address, version="2"), None),
        "expired message": (message_from(ch, acct.address, expiration_time="2026-01-05T11:59:00Z"), None),
        "not yet valid": (replace(message_from(ch, acct.address), not_before="2030-01-01T00:00:00Z"), None),
        "no expiry": (message_from(ch, acct.address, expiration_time=None), None),
    }
    for what, (msg, signature) in cases.items():
        with pytest.raises(InvalidInput):
            await submit(services, t.token, msg, signature or sign(msg.text(), acct.key))
        assert await linked(services) == 0, what
    with pytest.raises(SiweError, match="malformed"):
        await submit(services, t.token, good, "0x1234")
    with pytest.raises(SiweError):
        await submit(services, t.token, "not a message", sign("not a message", acct.key))
    with pytest.raises(NotFound):
        await submit(services, "forged-token", good, sign(good.text(), acct.key))
    # Bob's token with Alice's message (a token used by another member's page) is refused.
    with pytest.raises(InvalidInput):
        await submit(services, ch_bob["requestId"], good, sign(good.text(), acct.key))
    assert await linked(services) == 0
    # The genuine message still works; replaying it (or using the token again) is refused.
    signature = sign(good.text(), acct.key)
    await submit(services, t.token, good, signature)
    with pytest.raises(InvalidInput, match="already used"):
        await submit(services, t.token, good, signature)
    assert await linked(services) == 1


async def test_expired_link_and_expired_message(services, clock):
    t, ch = await ticket(services)
    acct = Account.create()
    msg = message_from(ch, acct.address)
    clock.advance(minutes=11)
    with pytest.raises(InvalidInput, match="expired"):
        await submit(services, t.token, msg, sign(msg.text(), acct.key))
    with pytest.raises(InvalidInput, match="expired"):
        await services.wallets.challenge(t.token, public_url=PUBLIC_URL, chain_id=CHAIN)
    assert await linked(services) == 0


async def test_one_wallet_one_member_per_guild_and_unlink(services):
    acct = Account.create()
    t, ch = await ticket(services)
    msg = message_from(ch, acct.address)
    await submit(services, t.token, msg, sign(msg.text(), acct.key))
    t2, ch2 = await ticket(services, BOB, "bob")
    msg2 = message_from(ch2, acct.address)
    with pytest.raises(InvalidInput, match="another member"):
        await submit(services, t2.token, msg2, sign(msg2.text(), acct.key))
    assert await services.wallets.owner_of(G, acct.address.lower()) == ALICE
    with pytest.raises(NotFound):
        await services.wallets.unlink(G, BOB, acct.address)
    assert await services.wallets.unlink(G, ALICE, acct.address.lower()) == acct.address
    msg2 = message_from(ch2, acct.address)
    await submit(services, t2.token, msg2, sign(msg2.text(), acct.key))  # ticket stayed open
    assert await services.wallets.owner_of(G, acct.address) == BOB


async def test_two_tabs_racing_one_ticket_link_once(services):
    t, ch = await ticket(services)
    accts = [Account.create() for _ in range(8)]
    msgs = [message_from(ch, a.address) for a in accts]
    results = await asyncio.gather(
        *(submit(services, t.token, m, sign(m.text(), a.key)) for m, a in zip(msgs, accts, strict=True)),
        return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, InvalidInput) for r in results if isinstance(r, Exception))
    assert await linked(services) == 1


async def test_open_links_per_member_are_capped(services, clock):
    for _ in range(3):
        await ticket(services)
    with pytest.raises(InvalidInput, match="several open wallet links"):
        await ticket(services)
    await ticket(services, BOB, "bob")  # others are not affected
    clock.advance(minutes=11)
    await ticket(services)  # expired links no longer count
