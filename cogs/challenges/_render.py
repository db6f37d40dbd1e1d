"""Embeds and texts for /challenge (presentation only)."""

from __future__ import annotations

import discord

from bot.render.challenge_card import CardRow
from cogs._shared.interaction import safe_text
from economy.challenges.competitions import Settled
from economy.challenges.service import Completion, Today
from economy.core.clock import from_ms
from economy.core.models import Page
from economy.core.settings import GuildSettings
from economy.core.wording import noun, plural

TYPE_ICONS = {"activity": "💬", "knowledge": "🧠", "creativity": "🎨", "community": "🤝"}


def bar(progress: int, target: int, width: int = 10) -> str:
    """A text progress bar: ▰▰▰▱▱▱▱▱▱▱."""
    filled = width if target <= 0 else min(width, progress * width // target)
    return "▰" * filled + "▱" * (width - filled)


def today_embed(today: Today, settings: GuildSettings) -> discord.Embed:
    """Today's set with progress bars (the text version of the card)."""
    ends = discord.utils.format_dt(today.window.end, "R")
    embed = discord.Embed(title=f"Today's challenges · {today.window.key}",
                          description=f"New challenges {ends}. Streak: **{today.streak}** {noun(today.streak, 'day')}.",
                          colour=discord.Colour.gold())
    if not today.items:
        embed.description += "\nNo challenges today."
    for item in today.items:
        c = item.challenge
        status = "✅ done" if item.completed else f"{bar(item.progress, c.target)} {item.progress}/{c.target}"
        how = {"knowledge": f"Answer with `/challenge submit {c.id}`"
               + (f" ({plural(item.attempts_left, 'attempt')} left)" if item.attempts_left is not None else ""),
               "activity": f"Counted automatically ({c.progress_label()})",
               "community": "The member you helped uses Apps › **Thank helper** on you",
               "creativity": f"`/challenge submit {c.id}` with an image and a caption; "
                             f"{c.target} votes or a moderator's OK"}.get(c.type, "")
        embed.add_field(
            name=f"{TYPE_ICONS.get(c.type, '')} {safe_text(c.title, limit=100)} · {c.difficulty} · "
                 f"{settings.money(c.reward)}"[:256],
            value=f"{safe_text(c.description, limit=400)}\n{status}\n`{c.id}` · {how}"[:1024],
            inline=False)
    return embed


def card_rows(today: Today, settings: GuildSettings) -> list[CardRow]:
    """Rows for the image card."""
    return [CardRow(item.challenge.title, item.challenge.type, item.progress, item.challenge.target,
                    item.completed, f"{item.challenge.reward:,} {settings.currency_name}")
            for item in today.items]


def completion_text(completion: Completion, settings: GuildSettings) -> str:
    """What a member reads after completing a challenge."""
    text = (f"🎉 Challenge **{safe_text(completion.title, limit=80)}** completed: "
            f"{settings.money(completion.reward)}.")
    if completion.streak:
        text += f" Streak: **{completion.streak}** {noun(completion.streak, 'day')}."
    for label, amount in completion.bonuses:
        text += f"\n➕ {label}: {settings.money(amount)}"
    return text


def history_embed(page: Page, settings: GuildSettings, streak: int) -> discord.Embed:
    """A page of the member's completions."""
    embed = discord.Embed(title="Your completed challenges", colour=discord.Colour.gold())
    lines = [f"`{doc['day']}` **{safe_text(doc.get('title', doc['challenge_id']), limit=80)}** "
             f"({doc['type']}) · {settings.money(int(doc.get('paid_amount') or doc['reward']))}"
             for doc in page.rows]
    embed.description = (f"Current streak: **{streak}** {noun(streak, 'day')} · {page.total} completed\n\n"
                         + ("\n".join(lines) or "Nothing yet: see `/challenge today`."))[:4096]
    embed.set_footer(text=f"Page {page.page}/{page.pages}")
    return embed


def pool_embed(rows: list, page: int, pages: int, settings: GuildSettings) -> discord.Embed:
    """A page of the guild's challenge pool."""
    embed = discord.Embed(title="Challenge pool", colour=discord.Colour.blurple())
    embed.description = "\n".join(
        f"`{c.id}` {TYPE_ICONS.get(c.type, '')} {safe_text(c.title, limit=60)} · {c.difficulty} · "
        f"{c.reward:,}{' · custom' if c.custom else ''}{' · seasonal' if c.season else ''}"
        for c in rows)[:4096] or "The pool is empty."
    embed.set_footer(text=f"Page {page}/{pages} · retire with /challenge-admin retire")
    return embed


def competition_text(doc: dict, settings: GuildSettings) -> str:
    """The announcement of a new competition."""
    what = "all challenges" if doc["kind"] == "any" else f"{doc['kind']} challenges"
    how = (f"the first {doc['places']} to complete {doc['target']} of them" if doc["mode"] == "first"
           else ("the member completing the most" if doc["places"] == 1
                 else f"the {doc['places']} members completing the most"))
    ends = discord.utils.format_dt(from_ms(doc["ends_ms"]), "R")
    return (f"🏆 Competition #{doc['competition_id']} over {what}: {how} win "
            f"{settings.money(doc['prize'])} each. Ends {ends}. Standings: "
            f"`/challenge competitions number:{doc['competition_id']}`.")


def competitions_embed(rows: list, settings: GuildSettings) -> discord.Embed:
    """Competitions with their top standings."""
    embed = discord.Embed(title="Challenge competitions", colour=discord.Colour.purple())
    if not rows:
        embed.description = "No competitions yet."
    for doc, standings in rows[:10]:
        state = ("ended" if doc["status"] == "settled"
                 else "ends " + discord.utils.format_dt(from_ms(doc["ends_ms"]), "R"))
        lines = [f"{s.place}. <@{s.user_id}> · {s.completions} completed" for s in standings]
        embed.add_field(
            name=f"#{doc['competition_id']} · {doc['kind']} · {doc['mode']} · "
                 f"{settings.money(doc['prize'])} · {state}"[:256],
            value=("\n".join(lines) or "No completions yet.")[:1024], inline=False)
    return embed


def competition_result_text(done: Settled, settings: GuildSettings) -> str:
    """The announcement when a competition ends."""
    doc = done.competition
    if not done.winners:
        return f"🏁 Competition #{doc['competition_id']} ended without a winner."
    names = ", ".join(f"<@{s.user_id}> ({settings.money(amount)})" for s, amount in done.winners)
    return f"🏁 Competition #{doc['competition_id']} ended. Winners: {names}."
