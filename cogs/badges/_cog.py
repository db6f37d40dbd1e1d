"""/badge-admin. Thin: parse, call the badge service, render. Members see their badges under
/profile (cogs/profile)."""

from __future__ import annotations

import logging
from typing import Literal

import discord
from discord import app_commands

from cogs._shared.feature_cog import (
    FeatureCog,
    admin_group,
    admin_only,
    settings_of,
)
from cogs._shared.interaction import (
    actor_of,
    guild_id_of,
    reply,
    safe_text,
    services_of,
)
from cogs.badges._render import badge_line
from economy.badges.rules import rule_facts
from economy.core.errors import InvalidInput
from economy.core.wording import plural

log = logging.getLogger(__name__)
#: What a server's automatic badge may count (economy/badges/rules.py FACT_WORDS).
RuleFact = Literal["sales", "trades", "daily_streak", "earned", "events_attended", "challenges",
                   "guides", "well_rated_trades", "event_wins", "season_podiums", "mentorships",
                   "nft_holder"]
#: Backfill pages per server per run (each BACKFILL_PAGE members).
BACKFILL_PAGES_PER_RUN = 5


async def _any_badge(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    catalogue = await services_of(interaction).badges.catalogue(guild_id_of(interaction))
    text = current.lower()
    return [app_commands.Choice(name=f"{b.name} ({b.rarity})"[:100], value=b.key)
            for b in catalogue.values() if text in b.key or text in b.name.lower()][:25]


class BadgesCog(FeatureCog):
    """Badges: what staff create, give, revoke and switch."""

    badge_admin = admin_group("badge-admin", "Badges (admins)")

    async def backfill(self) -> int:
        """Job: a few bounded backfill pages for each server this process serves (a server
        with badges off only parks its cursor, so switching them on starts it again)."""
        looked = 0
        for guild in list(self.bot.guilds):
            for _ in range(BACKFILL_PAGES_PER_RUN):
                try:
                    found = await self.services.badges.backfill_page(guild.id)
                except Exception:  # one server's failure never stops the others
                    log.exception("badge backfill failed for guild %s", guild.id)
                    break
                looked += found
                if not found:
                    break
        return looked

    # --- admins ------------------------------------------------------------------------------
    @badge_admin.command(name="create", description="Create a server badge (automatic with a rule; a limited edition with a supply)")
    @admin_only
    @app_commands.describe(name="Its name", description="What it is for", emoji="One emoji",
                           rarity="How rare it is",
                           supply="Limited edition: at most this many members hold it",
                           rule="Award it automatically when a member's count of this reaches at_least",
                           at_least="The count the rule needs",
                           tradeable="Its numbered editions can be sold on the marketplace "
                                     "(needs a supply; default: soulbound)")
    async def create(self, interaction: discord.Interaction,
                     name: app_commands.Range[str, 2, 40],
                     description: app_commands.Range[str, 3, 200],
                     emoji: app_commands.Range[str, 1, 64],
                     rarity: Literal["common", "rare", "epic", "legendary"],
                     supply: app_commands.Range[int, 1, 100_000] | None = None,
                     rule: RuleFact | None = None,
                     at_least: app_commands.Range[int, 1, 1_000_000_000] | None = None,
                     tradeable: bool = False):
        badge = await services_of(interaction).badges.create(
            guild_id_of(interaction), await actor_of(interaction), name=name,
            description=description, emoji=emoji, rarity=rarity, supply=supply, rule=rule,
            at_least=at_least, tradeable=tradeable)
        how = ("It is awarded automatically." if badge.rule is not None else
               f"Give it with `/badge-admin give badge:{badge.key}`.")
        await reply(interaction, f"Created {badge_line(badge)}. {how}", ephemeral=True)

    @badge_admin.command(name="give", description="Give a member a badge, with a reason (recorded)")
    @admin_only
    @app_commands.describe(badge="The badge", member="Who gets it", reason="Why (recorded)")
    @app_commands.autocomplete(badge=_any_badge)
    async def give(self, interaction: discord.Interaction, badge: app_commands.Range[str, 1, 40],
                   member: discord.Member, reason: app_commands.Range[str, 3, 200]):
        if member.bot:
            raise InvalidInput("Badges go to members, not bots.")
        award = await services_of(interaction).badges.give(
            guild_id_of(interaction), await actor_of(interaction), badge, member.id,
            reason=reason)
        await reply(interaction, f"{member.mention} now holds {badge_line(award.badge, award)}.",
                    ephemeral=True)

    @badge_admin.command(name="give-event", description="Give a badge to an event's check-ins or winners (a limited edition: until sold out)")
    @admin_only
    @app_commands.describe(badge="The badge (a limited edition makes an event collectible)",
                           event_id="The event's number",
                           group="Everyone who checked in, or the winners")
    @app_commands.autocomplete(badge=_any_badge)
    async def give_event(self, interaction: discord.Interaction,
                         badge: app_commands.Range[str, 1, 40],
                         event_id: app_commands.Range[int, 1],
                         group: Literal["attendees", "winners"]):
        drop = await services_of(interaction).badge_drops.to_event(
            guild_id_of(interaction), await actor_of(interaction), badge, event_id, group)
        await reply(interaction, _drop_text(drop, f"event #{event_id}'s {group}"), ephemeral=True)

    @badge_admin.command(name="give-season", description="Give a badge to a season's top 3 (its latest finished run)")
    @admin_only
    @app_commands.describe(badge="The badge", season="The season's name (as in /season list)")
    @app_commands.autocomplete(badge=_any_badge)
    async def give_season(self, interaction: discord.Interaction,
                          badge: app_commands.Range[str, 1, 40],
                          season: app_commands.Range[str, 1, 40]):
        drop = await services_of(interaction).badge_drops.to_season(
            guild_id_of(interaction), await actor_of(interaction), badge, season)
        await reply(interaction, _drop_text(drop, "the season's top 3"), ephemeral=True)

    @badge_admin.command(name="revoke", description="Take a badge back from a member, with a reason (recorded)")
    @admin_only
    @app_commands.describe(badge="The badge", member="Who loses it", reason="Why (recorded)")
    @app_commands.autocomplete(badge=_any_badge)
    async def revoke(self, interaction: discord.Interaction, badge: app_commands.Range[str, 1, 40],
                     member: discord.Member, reason: app_commands.Range[str, 3, 200]):
        found = await services_of(interaction).badges.revoke(
            guild_id_of(interaction), await actor_of(interaction), badge, member.id,
            reason=reason)
        await reply(interaction, f"Took {found.emoji} **{safe_text(found.name, limit=40)}** back "
                    f"from {member.mention}.", ephemeral=True)

    @badge_admin.command(name="rule", description="Switch an automatic badge on or off; set the GEMS and the role it gives")
    @admin_only
    @app_commands.describe(badge="An automatic badge", enabled="Award it automatically",
                           reward="GEMS paid with it (empty: the server's default)",
                           role="A role given with it (empty: none)")
    @app_commands.autocomplete(badge=_any_badge)
    async def rule(self, interaction: discord.Interaction, badge: app_commands.Range[str, 1, 40],
                   enabled: bool, reward: app_commands.Range[int, 0, 1_000_000] | None = None,
                   role: discord.Role | None = None):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        if role is not None:
            check_givable(role)
        state = await services.badges.set_rule(
            guild_id, await actor_of(interaction), badge, enabled=enabled, reward=reward,
            role_id=role.id if role else None)
        settings = await settings_of(interaction)
        pays = settings.money(state.reward if state.reward is not None
                              else settings.badge_reward_default)
        gives = f" and gives {role.mention}" if role else ""
        await reply(interaction, f"`{state.key}` is {'on' if state.enabled else 'off'}; "
                    f"it pays {pays}{gives}.", ephemeral=True)

    async def grant_roles(self) -> int:
        """Job: give the roles of badges awarded since the last run (each once: the award's
        `role_state` moves from pending to given, or to failed when Discord refuses)."""
        given = 0
        for guild in list(self.bot.guilds):
            for award in await self.services.badges.pending_roles(guild.id):
                role = guild.get_role(award.role_id or 0)
                member = guild.get_member(award.user_id)
                ok = False
                if role is not None and member is not None:
                    try:
                        await member.add_roles(role, reason=f"Badge: {award.badge.name}"[:100])
                        ok = True
                    except discord.HTTPException as error:  # hierarchy, permissions, gone
                        log.warning("badge role %s for %s in %s refused: %s", role.id,
                                    member.id, guild.id, error)
                if await self.services.badges.role_done(guild.id, award, given=ok) and ok:
                    given += 1
        return given


def check_givable(role: discord.Role) -> None:
    """Refuse a role the bot cannot give (everyone's, a bot's or integration's, above its own)."""
    if role.is_default() or role.managed:
        raise InvalidInput("Pick a normal role (not @everyone or a bot's own role).")
    me = role.guild.me
    if me is not None and (not me.guild_permissions.manage_roles or role >= me.top_role):
        raise InvalidInput(f"I can't give {role.mention}: I need *Manage Roles* and my role "
                           "above it in the server's role list.")


assert set(RuleFact.__args__) == set(rule_facts())  # type: ignore[attr-defined]


def _drop_text(drop, whom: str) -> str:
    """What a drop did, in one reply (members by mention, never pinged)."""
    def people(ids) -> str:
        shown = ", ".join(f"<@{u}>" for u in ids[:20])
        return shown + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")

    lines = [f"Gave `{drop.badge_key}` to {plural(len(drop.given), 'member')} of {whom}"
             + (f": {people(drop.given)}." if drop.given else ".")]
    if drop.already:
        lines.append(f"Held it already: {people(drop.already)}.")
    if drop.sold_out:
        lines.append(f"Sold out before {people(drop.sold_out)}: nobody else gets one.")
    return "\n".join(lines)

