"""Fixtures for the sandbox tests: a tiny discord.py bot exercising what the sandbox emulates.

The bot lives here (not in a module) so tests reach it through fixtures whatever pytest's import
mode is.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from discord_sandbox import ADMINISTRATOR, DiscordSandbox, Guild, Member, Role


class BuyModal(discord.ui.Modal, title="Buy gems"):
    """A modal with a labelled text input and an action-row text input."""

    amount: discord.ui.TextInput[Any] = discord.ui.TextInput(label="Amount", custom_id="amount")
    note: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Note", custom_id="note", required=False
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            f"bought {self.amount.value} ({self.note.value or 'no note'})", ephemeral=True
        )


class UploadModal(discord.ui.Modal, title="Upload photos"):
    """A labelled file upload (1-3 files), as GEMS's listing form uses it."""

    photos: discord.ui.Label[Any] = discord.ui.Label(
        text="Photos", component=discord.ui.FileUpload(custom_id="photos", min_values=1,
                                                       max_values=3))

    async def on_submit(self, interaction: discord.Interaction) -> None:
        assert isinstance(self.photos.component, discord.ui.FileUpload)
        files = self.photos.component.values
        sizes = [len(await f.read()) for f in files]
        await interaction.response.send_message(
            " ".join(f"{f.filename}:{n}" for f, n in zip(files, sizes, strict=True)))


class ShopView(discord.ui.View):
    """Buttons and a select, as GEMS's shop uses them."""

    def __init__(self) -> None:
        super().__init__(timeout=60)

    @discord.ui.button(label="Buy", custom_id="shop:buy", style=discord.ButtonStyle.green)
    async def buy(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await interaction.response.send_modal(BuyModal())

    @discord.ui.button(label="Cancel", custom_id="shop:cancel")
    async def cancel(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.edit_message(content="cancelled", view=None)

    @discord.ui.select(
        custom_id="shop:color",
        placeholder="Color",
        options=[
            discord.SelectOption(label="Red", value="red"),
            discord.SelectOption(label="Blue", value="blue"),
        ],
    )
    async def color(self, interaction: discord.Interaction, select: discord.ui.Select[Any]) -> None:
        await interaction.response.send_message(f"color={select.values[0]}")


class PickerView(discord.ui.View):
    """Auto-populated selects (types 5, 6, 8): the bot answers what it resolved."""

    def __init__(self) -> None:
        super().__init__(timeout=60)

    @discord.ui.select(cls=discord.ui.ChannelSelect, custom_id="pick:chan",
                       channel_types=[discord.ChannelType.text], min_values=0, max_values=2)
    async def chan(self, interaction: discord.Interaction, select: Any) -> None:
        picked = [f"{c.name}:{c.type.name}:{c.permissions.value}" for c in select.values]
        await interaction.response.send_message(f"channels {';'.join(picked)}".strip(), ephemeral=True)

    @discord.ui.select(cls=discord.ui.RoleSelect, custom_id="pick:role")
    async def role(self, interaction: discord.Interaction, select: Any) -> None:
        await interaction.response.send_message(f"role {select.values[0].name}", ephemeral=True)

    @discord.ui.select(cls=discord.ui.UserSelect, custom_id="pick:user", max_values=3)
    async def user(self, interaction: discord.Interaction, select: Any) -> None:
        await interaction.response.send_message(
            f"users {sorted(u.name for u in select.values)}", ephemeral=True)


class SandboxBot(commands.Bot):
    """Records what reached it so tests can assert on gateway events."""

    def __init__(self, *, friendly_errors: bool = False, **kwargs: Any) -> None:
        intents = discord.Intents.default()
        intents.members = True
        intents.message_content = True
        super().__init__(command_prefix="!", intents=intents, **kwargs)
        self.friendly_errors = friendly_errors
        self.seen_messages: list[discord.Message] = []
        self.removed: list[discord.Member] = []
        self.joined: list[discord.Member] = []
        self.threads: list[discord.Thread] = []
        add_commands(self.tree)

    async def setup_hook(self) -> None:
        if self.friendly_errors:

            @self.tree.error
            async def on_app_command_error(
                interaction: discord.Interaction, error: app_commands.AppCommandError
            ) -> None:
                await interaction.response.send_message("Something went wrong.", ephemeral=True)

    async def on_message(self, message: discord.Message) -> None:
        if not message.author.bot:
            self.seen_messages.append(message)

    async def on_member_remove(self, member: discord.Member) -> None:
        self.removed.append(member)

    async def on_member_join(self, member: discord.Member) -> None:
        self.joined.append(member)

    async def on_thread_create(self, thread: discord.Thread) -> None:
        self.threads.append(thread)


class ShardedSandboxBot(commands.AutoShardedBot):
    """The same commands on an AutoShardedBot."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(command_prefix="!", intents=discord.Intents.default(), **kwargs)
        add_commands(self.tree)


def add_commands(tree: app_commands.CommandTree[Any]) -> None:
    """Register the test commands on ``tree``."""

    @tree.command(description="Echo every option type")
    async def echo(
        interaction: discord.Interaction,
        text: str,
        count: int,
        ratio: float,
        flag: bool,
        member: discord.Member,
        role: discord.Role,
        channel: discord.TextChannel,
        file: discord.Attachment | None = None,
    ) -> None:
        data = await file.read() if file else b""
        await interaction.response.send_message(
            f"text={text} count={count} ratio={ratio} flag={flag} member={member.display_name} "
            f"member_is_member={isinstance(member, discord.Member)} role={role.name} "
            f"channel={channel.name} file={file.filename if file else None}:{data.decode()}"
        )

    @tree.command(description="Defer, edit, follow up")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.edit_original_response(content="done thinking")
        await interaction.followup.send("and one more thing", ephemeral=True)

    @tree.command(description="Defer then followup only")
    async def later(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("here it is")

    @tree.command(description="Open the shop")
    async def shop(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            "Shop", view=ShopView(), embed=discord.Embed(title="Gem shop", description="3 items")
        )

    async def fruit_complete(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        fruits = ["apple", "apricot", "banana", "cherry"]
        return [app_commands.Choice(name=f, value=f) for f in fruits if f.startswith(current)]

    @tree.command(description="Upload photos in a form")
    async def upload(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(UploadModal())

    @tree.command(description="Pick a fruit")
    @app_commands.autocomplete(fruit=fruit_complete)
    async def pick(interaction: discord.Interaction, fruit: str) -> None:
        await interaction.response.send_message(f"picked {fruit}")

    @tree.command(description="Give a role")
    async def grant(
        interaction: discord.Interaction, member: discord.Member, role: discord.Role
    ) -> None:
        try:
            await member.add_roles(role, reason="sandbox test")
        except discord.Forbidden as exc:
            await interaction.response.send_message(f"forbidden {exc.code}", ephemeral=True)
            return
        await interaction.response.send_message(f"granted {role.name}")

    @tree.command(description="DM me")
    async def dm(interaction: discord.Interaction, text: str) -> None:
        try:
            await interaction.user.send(text)
        except discord.Forbidden as exc:
            await interaction.response.send_message(f"dm failed {exc.code}", ephemeral=True)
            return
        await interaction.response.send_message("sent you a DM", ephemeral=True)

    @tree.command(description="Send a file")
    async def report(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            "report", file=discord.File(io.BytesIO(b"a,b\n1,2\n"), filename="report.csv")
        )

    @tree.command(description="Always fails")
    async def boom(interaction: discord.Interaction) -> None:
        raise RuntimeError("kaboom")

    @tree.command(description="Private thread and channel")
    async def room(interaction: discord.Interaction) -> None:
        assert isinstance(interaction.channel, discord.TextChannel)
        thread = await interaction.channel.create_thread(name="trade-room")
        await thread.add_user(interaction.user)
        await thread.send("welcome")
        await interaction.response.send_message(f"thread {thread.id}", ephemeral=True)

    @tree.command(description="Channel, role and user selects")
    async def pickers(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pick", view=PickerView(), ephemeral=True)

    gems = app_commands.Group(name="gems", description="Gem commands")

    @gems.command(name="give", description="Give gems")
    @app_commands.rename(amount="how-many")
    async def give(
        interaction: discord.Interaction,
        member: discord.Member,
        amount: app_commands.Range[int, 1, 1000],
    ) -> None:
        await interaction.response.send_message(f"gave {amount} to {member.mention}")

    tree.add_command(gems)


@dataclass
class World:
    """The standard test world: one guild, an admin, a plain member, a role the bot can give."""

    guild: Guild
    alice: Member
    bob: Member
    vip: Role


@pytest.fixture
async def sb() -> AsyncIterator[DiscordSandbox]:
    """A started sandbox (no client connected yet)."""
    async with DiscordSandbox() as sandbox:
        yield sandbox


@pytest.fixture
def world(sb: DiscordSandbox) -> World:
    """Guild "Gem Collectors" with alice (admin), bob, and a VIP role below the bot's role."""
    guild = sb.create_guild("Gem Collectors")
    alice = sb.add_member(guild, "alice", permissions=ADMINISTRATOR)
    bob = sb.add_member(guild, "bob")
    vip = sb.create_role(guild, "VIP")
    return World(guild, alice, bob, vip)


@pytest.fixture
async def bot(sb: DiscordSandbox, world: World) -> SandboxBot:
    """The test bot, connected to the sandbox."""
    client = SandboxBot()
    await sb.connect(client)
    return client


@pytest.fixture
def bot_class() -> type[SandboxBot]:
    """The test bot class, for tests that construct it themselves."""
    return SandboxBot


@pytest.fixture
def sharded_bot_class() -> type[ShardedSandboxBot]:
    """The AutoShardedBot variant of the test bot (construct it with ``shard_count``)."""
    return ShardedSandboxBot
