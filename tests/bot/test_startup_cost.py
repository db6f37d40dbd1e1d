"""What the bot process pays before READY and keeps per interaction (issue 28)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(120)

_PROBE = """
import importlib, pkgutil, sys
import bot, cogs, economy
for package in (bot, cogs, economy):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if info.name.startswith("bot.demo"):  # the offline demo signs with a test wallet
            continue
        importlib.import_module(info.name)
print(sorted(m for m in sys.modules if m.split(".")[0] in ("eth_account", "py_ecc", "eth_keyfile")))
"""


@pytest.mark.slow  # a child process importing every module
def test_no_module_of_the_bot_imports_the_wallet_signing_stack():
    """eth_account/py_ecc (~0.3 s of start-up) load only when a member links a wallet."""
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                         check=True, timeout=100)
    assert out.stdout.strip() == "[]", out.stdout


def test_signature_recovery_still_works_after_the_lazy_import():
    from eth_account import Account
    from eth_account.messages import encode_defunct

    from economy.nft.siwe import recover

    account = Account.create()
    signed = account.sign_message(encode_defunct(text="hello"))
    assert recover("hello", "0x" + signed.signature.hex().removeprefix("0x")) == account.address
