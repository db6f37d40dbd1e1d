"""A small EIP-4361 ("Sign-In with Ethereum") message parser and verifier.

The `siwe` package cannot be installed beside web3 8, and the bot only needs one strict shape:
every field the bot relies on is checked (domain, address checksum, statement, URI, version, chain
id, nonce, issued-at, expiration, not-before, request id), then the signer is recovered from the
`personal_sign` signature with eth-account and must equal the message's address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from eth_utils import is_hex, to_checksum_address

from economy.core.errors import InvalidInput

_HEADER = " wants you to sign in with your Ethereum account:"
_NONCE = re.compile(r"[A-Za-z0-9]{8,}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_DOMAIN = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?")
_STATEMENT = re.compile(r"[\x20-\x7e]{0,400}")
_TAGS = (("uri", "URI: "), ("version", "Version: "), ("chain_id", "Chain ID: "),
         ("nonce", "Nonce: "), ("issued_at", "Issued At: "),
         ("expiration_time", "Expiration Time: "), ("not_before", "Not Before: "),
         ("request_id", "Request ID: "))
_REQUIRED = ("uri", "version", "chain_id", "nonce", "issued_at")
#: Clock skew tolerated between the member's browser and the bot.
SKEW = timedelta(minutes=2)


class SiweError(InvalidInput):
    """The message or signature is not acceptable; the text says why."""


@dataclass(frozen=True)
class SiweMessage:
    """The fields of an EIP-4361 message (times as the RFC 3339 text that was signed)."""

    domain: str
    address: str
    statement: str | None
    uri: str
    version: str
    chain_id: int
    nonce: str
    issued_at: str
    expiration_time: str | None = None
    not_before: str | None = None
    request_id: str | None = None

    def text(self) -> str:
        """The exact text a wallet signs."""
        lines = [f"{self.domain}{_HEADER}", self.address, ""]
        if self.statement is not None:
            lines += [self.statement, ""]
        else:
            lines += [""]
        values = {"uri": self.uri, "version": self.version, "chain_id": str(self.chain_id),
                  "nonce": self.nonce, "issued_at": self.issued_at,
                  "expiration_time": self.expiration_time, "not_before": self.not_before,
                  "request_id": self.request_id}
        lines += [f"{tag}{values[key]}" for key, tag in _TAGS if values[key] is not None]
        return "\n".join(lines)


def parse(text: str) -> SiweMessage:
    """Parse a message strictly (field order, one field per line); SiweError when malformed."""
    if not isinstance(text, str) or len(text) > 4000 or "\r" in text:
        raise SiweError("The signed message is malformed.")
    lines = text.split("\n")
    if len(lines) < 8 or not lines[0].endswith(_HEADER):
        raise SiweError("The signed message is not a Sign-In with Ethereum message.")
    domain = lines[0][: -len(_HEADER)]
    if not _DOMAIN.fullmatch(domain):
        raise SiweError("The signed message names an invalid domain.")
    address = lines[1]
    if not _ADDRESS.fullmatch(address):
        raise SiweError("The signed message does not contain a valid address.")
    if lines[2] != "":
        raise SiweError("The signed message is malformed (address line).")
    rest = lines[3:]
    statement: str | None = None
    if rest and rest[0] == "":
        rest = rest[1:]
    else:
        statement = rest[0] if rest else ""
        if len(rest) < 2 or rest[1] != "" or not _STATEMENT.fullmatch(statement):
            raise SiweError("The signed message has a malformed statement.")
        rest = rest[2:]
    fields: dict[str, str] = {}
    position = 0
    for line in rest:
        for index in range(position, len(_TAGS)):
            key, tag = _TAGS[index]
            if line.startswith(tag):
                fields[key] = line[len(tag):]
                position = index + 1
                break
        else:
            raise SiweError("The signed message has an unexpected or misplaced line.")
    missing = [key for key in _REQUIRED if not fields.get(key)]
    if missing:
        raise SiweError(f"The signed message lacks {missing[0].replace('_', ' ')}.")
    if not fields["chain_id"].isdigit() or len(fields["chain_id"]) > 20:
        raise SiweError("The signed message has an invalid chain id.")
    if not _NONCE.fullmatch(fields["nonce"]):
        raise SiweError("The signed message has an invalid nonce.")
    for key in ("issued_at", "expiration_time", "not_before"):
        if key in fields:
            parse_time(fields[key])
    return SiweMessage(
        domain=domain, address=address, statement=statement, uri=fields["uri"],
        version=fields["version"], chain_id=int(fields["chain_id"]), nonce=fields["nonce"],
        issued_at=fields["issued_at"], expiration_time=fields.get("expiration_time"),
        not_before=fields.get("not_before"), request_id=fields.get("request_id"),
    )


def parse_time(text: str) -> datetime:
    """An RFC 3339 timestamp with a time zone; SiweError otherwise."""
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)", text):
        raise SiweError("The signed message has a malformed timestamp.")
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SiweError("The signed message has an invalid timestamp.") from None


def recover(text: str, signature: str) -> str:
    """The checksummed address that `personal_sign`ed `text`; SiweError for a bad signature."""
    if not isinstance(signature, str) or not re.fullmatch(r"0x[0-9a-fA-F]{130}", signature) \
            or not is_hex(signature):
        raise SiweError("The signature is malformed.")
    # Imported here, not at module level: eth_account pulls in py_ecc (~0.3 s and ~20 MiB), and
    # only linking a wallet needs it, so the bot starts without it.
    from eth_account import Account
    from eth_account.messages import encode_defunct

    try:
        return to_checksum_address(
            Account.recover_message(encode_defunct(text=text), signature=signature)
        )
    except Exception:
        raise SiweError("The signature is invalid.") from None


@dataclass(frozen=True)
class Expected:
    """What the bot asked the member to sign."""

    domain: str
    uri: str
    chain_id: int
    nonce: str
    request_id: str
    statement: str
    not_after: datetime  # the link's expiry: the message may not outlive it


def verify(text: str, signature: str, expected: Expected, now: datetime) -> SiweMessage:
    """Parse `text`, check every field against `expected` at `now`, and check the signer.

    Returns the message; raises SiweError naming the first field that does not match.
    """
    message = parse(text)
    if message.domain != expected.domain:
        raise SiweError("The message was signed for another website (domain mismatch).")
    if message.uri != expected.uri:
        raise SiweError("The message was signed for another page (URI mismatch).")
    if message.version != "1":
        raise SiweError("Only version 1 Sign-In with Ethereum messages are accepted.")
    if message.chain_id != expected.chain_id:
        raise SiweError(f"The message names chain {message.chain_id}; expected chain {expected.chain_id}.")
    if message.nonce != expected.nonce:
        raise SiweError("The message's nonce does not belong to this link.")
    if message.request_id != expected.request_id:
        raise SiweError("The message belongs to another link (request id mismatch).")
    if message.statement != expected.statement:
        raise SiweError("The message's statement does not match this link's member and server.")
    if to_checksum_address(message.address) != message.address:
        raise SiweError("The message's address is not EIP-55 checksummed.")
    issued = parse_time(message.issued_at)
    if issued > now + SKEW:
        raise SiweError("The message is issued in the future.")
    if message.expiration_time is None:
        raise SiweError("The message must carry an expiration time.")
    expires = parse_time(message.expiration_time)
    if expires <= now:
        raise SiweError("The message has expired. Run /wallet link again.")
    if expires > expected.not_after + SKEW:
        raise SiweError("The message outlives its link.")
    if message.not_before is not None and parse_time(message.not_before) > now + SKEW:
        raise SiweError("The message is not valid yet.")
    signer = recover(text, signature)
    if signer != message.address:
        raise SiweError("The signature was made by another address than the one in the message.")
    return message
