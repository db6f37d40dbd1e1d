"""/raffle-admin commands (admins), the raffle sweep and the result posts. Thin: parse, call the
raffle service, render."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import discord
from discord import app_commands

from cogs._shared.feature_cog import FeatureCog, admin_group, admin_only, settings_of
from cogs._shared.interaction import NO_PINGS, actor_of, guild_id_of, reply, safe_text, services_of
from cogs._shared.notify import post_to_moderators, resolve_channel, send_dm
from cogs._shared.time_option import DeadlineOrDuration, member_zone
from cogs.raffles._render import prize_note, raffle_line, result_text
from economy.core.clock import unix_seconds
from economy.core.settings import MAX_AMOUNT
from economy.core.wording import plural
from economy.raffles.models import MAX_TICKETS, MAX_WINNERS, Raffle, prize_key

log = logging.getLogger(__name__)
RaffleId = app_commands.Range[int, 1, 10**12]


@dataclass(frozen=True)
class RaffleNotice:
    """A drawn raffle whose result is to be posted (guild work `raffle-result`)."""

    guild_id: int
    raffle_id: int


@dataclass(frozen=True)
class RefundNotice:
    """Members refunded by a cancelled raffle, to be told by DM (guild work `raffle-refunds`)."""

    guild_id: int
    raffle_id: int
    prize: str
    refunded: list[tuple[int, int]]


class RafflesCog(FeatureCog):
    """Create, cancel and list raffles; draw and announce them when they end."""

    raffle_admin = admin_group("raffle-admin", "Raffles (admins)")

    @raffle_admin.command(name="create", description="Open a raffle members buy tickets for with GEMS")
    @admin_only
    @app_commands.describe(
        price="GEMS per ticket", max_per_member="Most tickets one member may hold",
        ends="When it is drawn: a duration (`3d`) or a time (`friday 9pm`)",
        prize="What the winner gets (text; default: the item's name)",
        item="A shop item each winner receives at the draw (number from /shop-admin list)",
        winners="How many winners (default 1; one prize per member)",
        channel="Where the result is posted (default: the raffle channel setting, else here)")
    async def create(
        self, interaction: discord.Interaction,
        price: app_commands.Range[int, 1, MAX_AMOUNT],
        max_per_member: app_commands.Range[int, 1, MAX_TICKETS], ends: DeadlineOrDuration,
        prize: app_commands.Range[str, 1, 200] | None = None,
        item: app_commands.Range[int, 1, 10**12] | None = None,
        winners: app_commands.Range[int, 1, MAX_WINNERS] = 1,
        channel: discord.TextChannel | None = None,
    ):
        settings = await settings_of(interaction)
        raffle = await services_of(interaction).raffles.create(
            guild_id_of(interaction), await actor_of(interaction), prize=prize, price=price,
            max_per_member=max_per_member, ends=ends, winners=winners,
            channel_id=(channel.id if channel else settings.raffle_channel_id
                        or interaction.channel_id),
            zone=await member_zone(interaction), item_id=item)
        await reply(interaction,
                    f"Raffle #{raffle.raffle_id} is open: **{safe_text(raffle.prize)}**"
                    f"{prize_note(raffle)}, "
                    f"{settings.money(raffle.price)} a ticket, at most {raffle.max_per_member} "
                    f"each, drawn <t:{unix_seconds(raffle.ends_ms)}:f>. Members buy with "
                    f"`/shop tickets raffle:{raffle.raffle_id}`.\nFairness: the draw's seed is "
                    f"fixed now; its SHA-256 is `{raffle.seed_hash}` (revealed at the draw).")

    @raffle_admin.command(name="cancel", description="Cancel a raffle and refund every ticket")
    @admin_only
    @app_commands.describe(raffle="Raffle number (see /raffle-admin list)")
    async def cancel(self, interaction: discord.Interaction, raffle: RaffleId):
        settings = await settings_of(interaction)
        done = await services_of(interaction).raffles.cancel(
            guild_id_of(interaction), await actor_of(interaction), raffle)
        await reply(interaction, f"Raffle #{raffle} is cancelled: {settings.money(done.amount)} "
                                 f"refunded to {plural(done.members, 'member')}.", ephemeral=True)
        await self.tell_refunds(RefundNotice(done.raffle.guild_id, raffle, done.raffle.prize,
                                             list(done.refunded)))

    @raffle_admin.command(name="list", description="The latest raffles, every state")
    @admin_only
    async def list_(self, interaction: discord.Interaction):
        settings = await settings_of(interaction)
        found = await services_of(interaction).raffles.all_raffles(
            guild_id_of(interaction), await actor_of(interaction))
        lines = [raffle_line(r, settings) for r in found]
        await reply(interaction, "\n".join(lines) or "No raffles yet: `/raffle-admin create`.",
                    ephemeral=True)

    # --- the sweep (one process) and the posts (the guild's process) --------------------------
    async def sweep(self) -> int:
        """Job body: draw ended raffles, finish cancellations, hand results over to be posted.
        Every step is a guarded transition, so a second run (or process) does nothing twice."""
        raffles = self.bot.services.raffles
        done = 0
        for guild_id, raffle_id, status in await raffles.pending():
            try:
                if status == "cancelled":
                    done_now = await raffles.finish_refunds(guild_id, raffle_id)
                    if done_now.refunded:
                        await self.bot.guild_work.hand_over(
                            "raffle-refunds", guild_id,
                            RefundNotice(guild_id, raffle_id, done_now.raffle.prize,
                                         list(done_now.refunded)))
                    continue
                if status in ("open", "closed"):
                    await raffles.draw(guild_id, raffle_id)
                if await raffles.claim_announcement(guild_id, raffle_id) is not None:
                    await self.bot.guild_work.hand_over(
                        "raffle-result", guild_id, RaffleNotice(guild_id, raffle_id),
                        key=f"{guild_id}:raffle:{raffle_id}")
                    done += 1
            except Exception:
                log.exception("raffle %s of guild %s: sweep step failed", raffle_id, guild_id)
        return done

    async def tell_refunds(self, notice: RefundNotice) -> None:
        """Guild work `raffle-refunds`: DM each refunded member once (those who allow bot DMs).
        The refund itself is in the ledger whatever happens to the message."""
        settings = await self.bot.services.settings.get(notice.guild_id)
        for user_id, paid in notice.refunded:
            await send_dm(self.bot, notice.guild_id, user_id,
                          f"Raffle #{notice.raffle_id} (**{safe_text(notice.prize, limit=100)}**) "
                          f"was cancelled: your {settings.money(paid)} for its tickets "
                          "are back in your wallet.")

    async def announce(self, notice: RaffleNotice) -> None:
        """Guild work `raffle-result`: post the result (no pings) and DM the winners (those who
        allow bot DMs)."""
        services = self.bot.services
        draw = await services.raffles.result(notice.guild_id, notice.raffle_id)
        settings = await services.settings.get(notice.guild_id)
        channel_id = draw.raffle.channel_id or settings.raffle_channel_id
        channel = await resolve_channel(self.bot, channel_id) if channel_id else None
        if channel is not None:
            await channel.send(result_text(draw), allowed_mentions=NO_PINGS)
        else:
            log.info("raffle %s of guild %s: no channel to post the result", notice.raffle_id,
                     notice.guild_id)
        guild = self.bot.get_guild(notice.guild_id)
        where = safe_text(guild.name, limit=100) if guild else "the server"
        for place, user_id in enumerate(draw.raffle.winners):
            given = await self._give_prize(guild, draw.raffle, place)
            await send_dm(self.bot, notice.guild_id, user_id,
                          f"🎉 You won raffle #{draw.raffle.raffle_id} in {where}: "
                          f"**{safe_text(draw.raffle.prize, limit=100)}**. {given}")

    async def _give_prize(self, guild: discord.Guild | None, raffle: Raffle, place: int) -> str:
        """Give a place's item prize its role (the draw already gave the item; a role is given
        after the commit, by the shop's own delivery with its retries) and say what happened."""
        if raffle.prize_item_id is None:
            return "Staff will be in touch."
        key = prize_key(raffle.guild_id, raffle.raffle_id, place)
        prize = await self.bot.services.shop.prize(raffle.guild_id, key)
        if prize is None:  # the draw gives every place its item in its own transaction
            log.error("raffle %s of guild %s: no prize record %s", raffle.raffle_id,
                      raffle.guild_id, key)
            return "Staff will be in touch."
        if prize.status == "fulfilling":
            from cogs.shop import post_ticket  # here: cogs.shop imports this package at load

            await post_ticket(self.bot, raffle.guild_id, prize)
            return "Staff hand this prize over themselves: they have a ticket for it."
        if prize.status == "granting" and guild is not None:
            from cogs.shop import deliver

            problem = await deliver(self.bot, guild, prize)
            if problem is None:
                return "The role is yours" + (f" until <t:{unix_seconds(prize.until_ms)}:f>."
                                              if prize.until_ms else ".")
            prize = await self.bot.services.shop.prize(raffle.guild_id, key) or prize
        if prize.target is not None:  # a badge: awarded by the draw itself
            if prize.status == "undelivered":  # told once: the announcement is claimed once
                await post_to_moderators(
                    self.bot, raffle.guild_id,
                    f"🎁 Prize not awarded: <@{prize.holder_id}> won badge `{prize.target}` "
                    f"({prize.prize}) but holds it already or its editions ran out (reference "
                    f"`{prize.key}`).")
                return ("The badge could not be awarded (you hold it already, or its editions "
                        "ran out), so staff were told.")
            edition = f" (edition #{prize.serial})" if prize.serial is not None else ""
            return f"The badge is on your profile{edition}: `/profile badges`."
        if prize.status == "undelivered":
            return ("I could not give you the role, so staff were told and will give it to you "
                    "by hand.")
        if prize.status == "granting":
            return "Your role is on its way."
        if prize.role_id is not None:
            return "The role is yours."
        return "It is in your inventory (`/shop inventory`)."
