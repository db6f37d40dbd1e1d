"""Helpers for wallet-link tests: build and sign the EIP-4361 message the link page would."""

from __future__ import annotations

from dataclasses import replace

from eth_account import Account
from eth_account.messages import encode_defunct

from economy.nft.siwe import SiweMessage

PUBLIC_URL = "https://gems.example.org"


def message_from(challenge: dict, address: str, **changes) -> SiweMessage:
    """The message the page builds from the server's challenge (fields overridable)."""
    msg = SiweMessage(
        domain=challenge["domain"], address=address, statement=challenge["statement"],
        uri=challenge["uri"], version=challenge["version"], chain_id=challenge["chainId"],
        nonce=challenge["nonce"], issued_at=challenge["issuedAt"],
        expiration_time=challenge["expirationTime"], request_id=challenge["requestId"],
    )
    return replace(msg, **changes)


def sign(text: str, key) -> str:
    """personal_sign of `text` with an eth-account key, 0x-prefixed."""
    return Account.sign_message(encode_defunct(text=text), key).signature.to_0x_hex()
