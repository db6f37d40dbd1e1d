"""Giving a purchased (or won) role after the purchase committed: retries, then a refund when
the role cannot be given (it is above the bot's highest role, managed, gone, or Manage Roles is
missing). A raffle prize cost nothing: it is marked undelivered and staff are told instead."""

from __future__ import annotations

import asyncio
import logging

import discord

from cogs._shared.notify import post_to_moderators
from economy.shop.models import Purchase

log = logging.getLogger(__name__)
ATTEMPTS = 3


def role_problem(guild: discord.Guild, role: discord.Role | None) -> str | None:
    """Why the bot cannot give `role` in `guild` (None when it can)."""
    me = guild.me
    if role is None:
        return "the role no longer exists"
    if not me.guild_permissions.manage_roles:
        return "I lack the Manage Roles permission"
    if role >= me.top_role or role.managed or role.is_default():
        return f"{role.mention} is above my highest role (or managed by an integration)"
    return None


async def deliver(bot, guild: discord.Guild, purchase: Purchase) -> str | None:
    """Give the purchased role; returns None when given, else why it was refunded (a prize:
    why it was left to staff)."""
    shop = bot.services.shop
    role = guild.get_role(purchase.role_id or 0)
    problem = role_problem(guild, role)
    if problem is None:
        member = guild.get_member(purchase.holder_id)
        if member is None:
            try:
                member = await guild.fetch_member(purchase.holder_id)
            except discord.HTTPException:
                member = None
        if member is None:
            problem = "you are no longer in the server"
    if problem is None:
        for attempt in range(ATTEMPTS):
            try:
                await member.add_roles(role, reason=f"Shop purchase {purchase.key}")
            except discord.Forbidden:
                problem = "Discord refused to give the role (check my role is above it)"
                break
            except discord.HTTPException as error:
                log.warning("shop role grant failed (attempt %d): %s", attempt + 1, error)
                problem = "Discord did not answer"
                await asyncio.sleep(0.5 * 2 ** attempt)
            else:
                await shop.role_granted(guild.id, purchase.key)
                return None
    if purchase.prize:
        if await shop.prize_undelivered(guild.id, purchase.key):
            await _prize_to_staff(bot, guild, purchase, problem)
        return problem
    await shop.refund(guild.id, purchase.key, f"role not given: {problem}")
    return problem


async def _prize_to_staff(bot, guild: discord.Guild, purchase: Purchase, problem: str) -> None:
    """A won role could not be given: a log line and a post in the moderators' queue (the
    fulfilment ticket), once (the caller won the guarded `undelivered` change)."""
    log.warning("prize %s (%s) in guild %s: role %s not given to member %s: %s; staff must "
                "give it by hand", purchase.key, purchase.prize, guild.id, purchase.role_id,
                purchase.holder_id, problem)
    await post_to_moderators(
        bot, guild.id,
        f"🎁 Prize to give by hand: <@{purchase.holder_id}> won <@&{purchase.role_id}> "
        f"({purchase.prize}) but I could not give it: {problem}. Give the role yourself "
        f"(reference `{purchase.key}`).")
