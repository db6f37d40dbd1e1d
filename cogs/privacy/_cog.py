"""/privacy commands. Thin: parse the interaction, call the privacy service, render."""

from __future__ import annotations

import io

import discord
from discord import app_commands

from bot.metrics import record_dm
from cogs._shared.feature_cog import FeatureCog, member_group
from cogs._shared.interaction import NO_PINGS, guild_id_of, reply, safe_text, services_of
from cogs.privacy._views import confirm_view
from economy.privacy.service import FORFEITS, DeletionPreview, export_summary


def preview_text(preview: DeletionPreview) -> str:
    """What /privacy delete will do, or what blocks it."""
    if preview.blockers:
        return ("Your data can't be deleted yet:\n" + "\n".join(f"• {b}" for b in preview.blockers))
    lines = ["**Delete my data in this server?** This can't be undone.",
             "• Your wallets, preferences, saved searches, wishlists, alerts and mentorship "
             "profile are deleted.",
             "• Your ledger entries, trades and ratings stay, pointing at an anonymous account, "
             "so other members' totals stay exact."]
    if preview.listings_to_withdraw:
        numbers = ", ".join(f"#{n}" for n in preview.listings_to_withdraw[:20])
        lines.append(f"• Your live listings are withdrawn: {numbers}.")
    if preview.balance:
        lines.append(f"• Your balance of {preview.balance:,} GEMS is retired (not paid out).")
    lines.append(f"• {FORFEITS}")
    lines.append("Press the button to confirm.")
    return "\n".join(lines)


class PrivacyCog(FeatureCog):
    """Members get a copy of their data or have it anonymised."""

    privacy = member_group("privacy", "Your data in this server")

    @privacy.command(name="export", description="Get a copy of your data in this server by DM")
    @app_commands.checks.cooldown(1, 120, key=lambda i: (i.guild_id, i.user.id))
    async def export(self, interaction: discord.Interaction):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await services.privacy.export(guild_id, interaction.user.id)
        documents = sum(export_summary(data).values())
        server = safe_text(interaction.guild.name if interaction.guild else "this server", limit=100)
        # Sent even with `/gems dms off`: the member asked for this very message.
        try:
            await interaction.user.send(
                f"Your GEMS data in **{server}** ({documents:,} records, JSON).",
                file=discord.File(io.BytesIO(data), filename=f"gems-data-{guild_id}.json"),
                allowed_mentions=NO_PINGS)
        except discord.HTTPException:
            record_dm(self.bot, "failed")
            await reply(interaction, "I couldn't DM you: your direct messages are closed. Allow "
                        "DMs from this server's members (Privacy Settings), then run "
                        "`/privacy export` again.", ephemeral=True)
            return
        record_dm(self.bot, "sent")
        await reply(interaction, f"Sent: check your DMs for a file with {documents:,} records.",
                    ephemeral=True)

    @privacy.command(name="delete", description="Anonymise your data in this server (asks first)")
    async def delete(self, interaction: discord.Interaction):
        services, guild_id = services_of(interaction), guild_id_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        preview = await services.privacy.preview(guild_id, interaction.user.id)
        view = None if preview.blockers else confirm_view(interaction.user.id)
        await reply(interaction, preview_text(preview), view=view, ephemeral=True)
