"""The community with a chain: the real bot, the sandbox, and the JSON-RPC chain rig."""

from __future__ import annotations

import contextlib
import re

import aiohttp
import pytest
from eth_account import Account

from bot.demo.community import GemsCommunity
from bot.settings import Settings
from economy.core.audit import audit
from tests.nft.helpers import message_from, sign


@contextlib.asynccontextmanager
async def open_ngc(store, clock, chain, **overrides):
    """A connected community whose bot reads the rig's chain (settings overridable: another
    `chain_rpc_urls`, `multicall3_address`, `chain_sync_deadline_seconds`, ...)."""
    options = {"chain_rpc_urls": {chain.chain_id: chain.url},
               "multicall3_address": chain.aggregator, "chain_timeout_seconds": 30,
               # py-evm executes every call in Python: a busy test machine needs a long budget.
               "chain_sync_deadline_seconds": 120}
    options.update(overrides)
    settings = Settings(_env_file=None, discord_token=None, attachment_hosts=["127.0.0.1"],
                        web_port=0, nft_media_hosts=["127.0.0.1"], **options)
    async with GemsCommunity.open(store.db, clock=clock, strict_deadline=False, settings=settings) as community:
        community.chain = chain
        async with aiohttp.ClientSession() as http:
            community.http = http
            yield community
    report = await audit(community.services.db)
    assert report.ok, report.render()


@pytest.fixture
async def ngc(store, clock, chain):
    """A connected community whose bot reads the rig's chain and serves its web pages."""
    async with open_ngc(store, clock, chain) as community:
        yield community


def link_url(result) -> str:
    """The one-time link in a /wallet link answer."""
    match = re.search(r"(http://\S+/wallet/link/(\S+))", result.text)
    assert match, result.text
    return match.group(1)


async def challenge_for(gc, url: str) -> tuple[str, dict]:
    """Fetch the challenge the page would (token, fields)."""
    token = url.rsplit("/", 1)[1]
    base = gc.bot.web.public_url
    async with gc.http.get(f"{base}/wallet/api/challenge/{token}") as resp:
        assert resp.status == 200, await resp.text()
        return token, await resp.json()


async def post_signed(gc, token: str, message: str, signature: str) -> tuple[int, dict]:
    """What the page posts back."""
    async with gc.http.post(f"{gc.bot.web.public_url}/wallet/api/verify",
                            json={"token": token, "message": message, "signature": signature}) as resp:
        return resp.status, await resp.json()


async def link_wallet(gc, who: str, account=None):
    """/wallet link, then sign and post like the page; returns (account, status, body)."""
    account = account or Account.create()
    r = await gc.slash(who, "wallet link")
    token, fields = await challenge_for(gc, link_url(r))
    msg = message_from(fields, account.address).text()
    status, body = await post_signed(gc, token, msg, sign(msg, account.key))
    return account, status, body
