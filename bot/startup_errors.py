"""Start-up failures as one line that says what to do (no traceback, never a secret)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import discord

PORTAL = "https://discord.com/developers/applications"

_URI_PASSWORD = re.compile(r"(?P<head>(?://|^)[^:/@\s]+):(?P<secret>[^@\s/]*)@")


class StartupError(Exception):
    """The bot cannot start; the message says what to do."""


def mask_secrets(text: str) -> str:
    """`text` with the password of any `user:password@host` connection string replaced by ****."""
    return _URI_PASSWORD.sub(lambda m: f"{m['head']}:****@", text)


def explain_connect_error(exc: BaseException) -> str | None:
    """The one-line explanation of a Discord connection failure, or None if it is not one."""
    # Here, not at the top: every command imports StartupError, and only `run` needs these.
    import aiohttp
    import discord

    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return (
            "Discord refused the connection because the bot asks for privileged intents that are "
            f"off for this application. In the Developer Portal ({PORTAL}) -> your application -> "
            "Bot -> Privileged Gateway Intents, turn on SERVER MEMBERS INTENT and MESSAGE CONTENT "
            "INTENT, save, and start the bot again."
        )
    if isinstance(exc, discord.LoginFailure):
        return (
            "Discord refused the bot token in DISCORD_TOKEN (invalid or reset). In the Developer "
            f"Portal ({PORTAL}) -> your application -> Bot, press Reset Token and put the new "
            "token in .env as DISCORD_TOKEN (the bot token, not the client secret)."
        )
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return (
            f"Cannot look up Discord's address ({_host(exc)}): this machine has no DNS or no "
            "network. Check its network connection, DNS resolver and any HTTPS proxy, then start "
            "again."
        )
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ServerTimeoutError | TimeoutError):
        return (
            f"Cannot connect to Discord ({_host(exc) or 'discord.com'}): the network or a firewall "
            "blocks outgoing HTTPS (port 443). Check the machine's network and firewall, then "
            "start again."
        )
    if isinstance(exc, discord.GatewayNotFound):
        return ("Discord's gateway is unavailable right now (see https://discordstatus.com); "
                "start again in a few minutes.")
    if isinstance(exc, discord.HTTPException) and exc.status >= 500:
        return (f"Discord answered {exc.status} while the bot connected (an outage, see "
                "https://discordstatus.com); start again in a few minutes.")
    return None


def _host(exc: BaseException) -> str:
    key = getattr(exc, "host", None) or getattr(getattr(exc, "_conn_key", None), "host", None)
    return str(key or "")


async def start_bot(bot: discord.Client, token: str) -> None:
    """`bot.start(token)` with connection failures turned into StartupError."""
    try:
        await bot.start(token)
    except Exception as exc:
        message = explain_connect_error(exc)
        if message is None:
            raise
        raise StartupError(message) from None
