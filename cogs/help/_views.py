"""Rendering /help pages and the restart-proof page buttons."""

from __future__ import annotations

import discord

from cogs._shared.custom_ids import num
from cogs._shared.paging import PageButton
from cogs.help._catalog import CommandInfo, catalog, runnable_by
from economy.registry import FEATURES as REGISTERED

FEATURES_PER_PAGE = 11  # a member sees ~16 features, an admin ~21: two pages each
COLOR = 0x40C4FF
#: Feature titles: the feature declarations' labels plus the core adapters.
TITLES = {f.name: f.label for f in REGISTERED} | {
    "settings": "Settings", "setup_wizard": "Setup", "help": "Help"}
#: Features in the order members meet them (the registry's order), then the core adapters.
ORDER = [f.name for f in REGISTERED] + ["help", "settings", "setup_wizard"]
#: Adapters shown under another one's title (the web dashboard's commands sit with Settings).
SHOWN_WITH = {"dashboard": "settings"}


def visible_commands(interaction: discord.Interaction) -> list[CommandInfo]:
    """The commands the member who interacts may run here."""
    return runnable_by(catalog(interaction.client.tree), interaction.permissions,
                       interaction.guild is not None)


def by_feature(commands: list[CommandInfo]) -> list[tuple[str, list[str]]]:
    """One (title, lines) per feature: a line per top-level command with its subcommands,
    member group first, then its `-admin` group."""
    roots: dict[str, dict[str, list[CommandInfo]]] = {}
    for info in commands:
        section = SHOWN_WITH.get(info.feature, info.feature)
        roots.setdefault(section, {}).setdefault(info.root, []).append(info)
    rank = {name: i for i, name in enumerate(ORDER)}
    sections = []
    for feature in sorted(roots, key=lambda f: (rank.get(f, len(rank)), f)):
        lines = []
        for root in sorted(roots[feature], key=lambda r: (r.endswith("-admin"), r)):
            leaves = roots[feature][root]
            if len(leaves) == 1 and leaves[0].path == f"/{root}":
                lines.append(f"`/{root}` — {leaves[0].description}")
            else:
                subs = " · ".join(c.path[len(root) + 2:] for c in leaves)
                lines.append(f"`/{root}` {subs}")
        sections.append((TITLES.get(feature, feature.replace("_", " ").title()), lines))
    return sections


def overview_page(commands: list[CommandInfo], page: int) -> tuple[discord.Embed, int, int]:
    """One page of the overview, grouped by feature; returns (embed, pages, page shown)."""
    sections = by_feature(commands)
    pages = max(1, -(-len(sections) // FEATURES_PER_PAGE))
    page = min(max(1, page), pages)
    embed = discord.Embed(title="GEMS commands you can use", color=COLOR)
    for title, lines in sections[(page - 1) * FEATURES_PER_PAGE: page * FEATURES_PER_PAGE]:
        embed.add_field(name=title, value="\n".join(lines)[:1024], inline=False)
    embed.set_footer(text=f"Page {page}/{pages} · /help command:<name> for the details")
    return embed, pages, page


def detail_embed(info: CommandInfo) -> discord.Embed:
    """One command: what it does, its options, who may run it."""
    embed = discord.Embed(title=info.path, description=info.description, color=COLOR)
    if info.options:
        embed.add_field(name="Options", inline=False, value="\n".join(
            f"`{name}`{'' if required else ' (optional)'} — {text}"
            for name, required, text in info.options)[:1024])
    embed.add_field(name="Who can run it", value=info.who, inline=False)
    return embed


class HelpPageButton(
    PageButton, template=rf"help:page:{num('owner')}:{num('page')}:(?P<direction>prev|next)"
):
    """Only the member who asked pages their own overview (it depends on their permissions)."""

    prefix = "help:page"

    @classmethod
    async def render(cls, interaction, owner, page):
        return overview_page(visible_commands(interaction), page)
