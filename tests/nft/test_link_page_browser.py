"""The wallet-link page in real headless Chromium (Debian's package), driven by Playwright.

An injected EIP-1193 provider (announced through EIP-6963) signs with a test key in Python; the
page builds the EIP-4361 message itself (including the EIP-55 checksum), the bot verifies it, and
the member ends up linked with the holder role in the sandbox.

Skipped only off CI when /usr/bin/chromium is missing; on CI (env CI set) a missing browser
fails: `.ci/run` installs it.
"""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from tests.browser import CHROMIUM_MARKS
from tests.nft.conftest import link_url

pytestmark = [*CHROMIUM_MARKS, pytest.mark.timeout(60)]

INJECTED_WALLET = """
(() => {
  const provider = {
    request: async ({ method, params }) => {
      if (method === "eth_requestAccounts" || method === "eth_accounts") return [ADDRESS];
      if (method === "personal_sign") return await window.gemsTestSign(params[0], params[1]);
      throw Object.assign(new Error("unsupported method " + method), { code: 4200 });
    },
  };
  const announce = () => window.dispatchEvent(new CustomEvent("eip6963:announceProvider", {
    detail: Object.freeze({ info: { uuid: "6f0a2d2c-1f7e-4a51-9d1a-000000000001",
      name: "Test Wallet", icon: "data:image/svg+xml,<svg/>", rdns: "org.example.testwallet" },
      provider }),
  }));
  window.addEventListener("eip6963:requestProvider", announce);
})();
"""


async def test_member_links_a_wallet_in_chromium_and_gets_the_role(ngc, browser):
    gc, chain = ngc, ngc.chain
    holder = gc.sb.create_role(gc.guild, "Holder")
    await gc.slash("admin", "wallet-admin rule add", contract=chain.erc721, standard="erc721", role=holder)
    account = Account.create()
    chain.mint721([account.address], 1)
    signed: list[str] = []

    async def sign(data_hex: str, address: str) -> str:
        assert address == account.address.lower()
        message = bytes.fromhex(data_hex[2:])
        signed.append(message.decode())
        return Account.sign_message(encode_defunct(primitive=message), account.key).signature.to_0x_hex()

    page = await browser.new_page()
    await page.expose_function("gemsTestSign", sign)
    # Wallets hand out lowercase addresses: the page must checksum it (EIP-55) itself.
    await page.add_init_script(INJECTED_WALLET.replace("ADDRESS", repr(account.address.lower())))
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    r = await gc.slash("alice", "wallet link")
    await page.goto(link_url(r))
    await page.get_by_role("button", name="Sign with Test Wallet").click()
    await page.wait_for_selector("#status.ok, #status.error", timeout=30_000)
    # A fast click links before wallet discovery's 300 ms timer ends; the timer must not then
    # overwrite the outcome with "Choose your wallet." (it did, now and then, under load).
    await page.wait_for_timeout(400)
    status = await page.text_content("#status")
    assert f"Linked {account.address}" in status and "Holder" in status, status
    assert not errors
    assert signed and signed[0].split("\n")[1] == account.address
    await gc.sb.settle()
    assert holder.id in gc.sb.member(gc.guild, gc["alice"]).roles
    assert await gc.services.wallets.wallets(gc.guild.id, gc["alice"].id) == [account.address]
    # The same link cannot be used again: the page says so and offers nothing to sign.
    await page.goto(link_url(r))
    await page.wait_for_selector("#status.error")
    assert "already used" in await page.text_content("#status")
    await page.close()
