"""Members link wallets with a signed message and holders get their role."""

from __future__ import annotations

import hashlib
import logging
import re

import aiohttp
from eth_account import Account
from eth_account.messages import encode_defunct

ORDER = 80
TITLE = "Wallets and NFT-holder roles"


def _message(fields: dict, address: str) -> str:
    """The EIP-4361 text the link page builds from the bot's challenge."""
    return "\n".join([
        f"{fields['domain']} wants you to sign in with your Ethereum account:", address, "",
        fields["statement"], "", f"URI: {fields['uri']}", f"Version: {fields['version']}",
        f"Chain ID: {fields['chainId']}", f"Nonce: {fields['nonce']}",
        f"Issued At: {fields['issuedAt']}", f"Expiration Time: {fields['expirationTime']}",
        f"Request ID: {fields['requestId']}"])


async def _browser_signs(http, link_text: str, account) -> tuple[int, dict, tuple]:
    """What the member's browser does on the link page: fetch, sign, post back."""
    url = re.search(r"(http://\S+/wallet/link/(\S+))", link_text)
    base, token = url.group(1).split("/wallet/link/")[0], url.group(2)
    async with http.get(f"{base}/wallet/api/challenge/{token}") as resp:
        fields = await resp.json()
    text = _message(fields, account.address)
    signature = Account.sign_message(encode_defunct(text=text), account.key).signature.to_0x_hex()
    payload = {"token": token, "message": text, "signature": signature}
    async with http.post(f"{base}/wallet/api/verify", json=payload) as resp:
        return resp.status, await resp.json(), (base, payload)


async def play(t, gc) -> None:
    """A rule for an NFT collection, a signed wallet link, a replay refused, a guild sync."""
    try:  # the local EVM is a dev tool (devtools/, eth-tester); `./gems` installs the dev extra
        from devtools.chain.rig import ChainRig
    except ImportError:
        t.note("eth-tester or devtools/ is not installed: the NFT scene needs the local test "
               "chain; skipped.")
        return
    logging.getLogger("web3").setLevel(logging.WARNING)
    rig = ChainRig().start()
    chains = gc.services.nft.chains
    chains.urls[rig.chain_id], chains.aggregator = rig.url, rig.aggregator
    t.note(f"A local EVM (eth-tester) serves JSON-RPC at {rig.url} with an 'Emerald' ERC-721 "
           "collection; the bot reads it like any node.")
    try:
        holder = gc.sb.create_role(gc.guild, "Emerald holder")
        whale = gc.sb.create_role(gc.guild, "Whale", above_bot=True)
        added = await t.slash("admin", "wallet-admin rule add", contract=rig.erc721, standard="erc721",
                              role=holder, chain=rig.chain_id)
        t.check("Added rule #1" in added.text, "admins add a holder rule")
        refused = await t.slash("admin", "wallet-admin rule add", contract=rig.erc721, standard="erc721",
                                role=whale, chain=rig.chain_id)
        t.check("above my highest role" in refused.text, "a role above the bot's is refused")

        # Fixed keys: the same addresses on every run (the demo prints them).
        alice, bob = (Account.from_key(hashlib.sha256(f"gems demo {name}".encode()).digest())
                      for name in ("alice", "bob"))
        rig.mint721([alice.address], 1)
        link = await t.slash("alice", "wallet link")
        async with aiohttp.ClientSession() as http:
            t.note("alice opens the link and her wallet signs the Sign-In with Ethereum message.")
            status, body, (base, payload) = await _browser_signs(http, link.text, alice)
            t.check(status == 200 and "Emerald holder" in body["roles_text"],
                    "alice's wallet is linked and she gets the holder role at once")
            async with http.post(f"{base}/wallet/api/verify", json=payload) as resp:
                replay = await resp.json()
            t.check("already used" in replay.get("error", ""), "replaying her signature is refused")
            link = await t.slash("bob", "wallet link")
            status, body, _ = await _browser_signs(http, link.text, bob)
            t.check(status == 200 and "No holder role" in body["roles_text"],
                    "bob links a wallet that holds nothing yet")
        await gc.sb.settle()
        t.check(holder.id in gc.sb.member(gc.guild, gc["alice"]).roles, "alice holds the role")
        t.note("bob buys an Emerald on the chain.")
        rig.mint721([bob.address], 2)
        synced = await t.slash("admin", "wallet-admin sync")
        t.check("1 role given, 0 taken" in synced.text, "a guild sync gives bob the role, nothing else")
        await t.slash("admin", "wallet-admin status")
        await t.slash("alice", "wallet list")
        await t.slash("admin", "wallet-admin rule list")
        tested = await t.slash("admin", "wallet-admin rule test", member=gc["bob"])
        t.check("qualifies" in tested.text, "a rule test explains what bob gets and why")
        gallery = await t.slash("bob", "wallet gallery", member=gc["alice"])
        t.check("token" in gallery.text, "the gallery lists alice's Emeralds")
        await t.slash("mod", "wallet-admin lookup", member=gc["alice"])
        await t.slash("mod", "wallet-admin lookup", address=bob.address)
        t.note("bob sells his Emerald on the chain and asks for a re-check at once.")
        rig.transfer721(bob.address, alice.address, 2)
        await t.slash("bob", "wallet refresh")
        await t.slash("bob", "wallet unlink", address=bob.address)
        t.note("The demo's chain goes away after this scene, so the admin removes its rule "
               "(otherwise the periodic re-sync would warn that the chain has no RPC endpoint).")
        await t.slash("admin", "wallet-admin rule remove", rule=1)
    finally:
        chains.urls.pop(rig.chain_id, None)
        await chains.close()
        rig.stop()
