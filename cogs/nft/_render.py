"""Embeds and texts for wallets and NFT roles (presentation only)."""

from __future__ import annotations

import discord

from economy.core.clock import unix_seconds
from economy.core.wording import plural
from economy.nft.service import STANDARDS, ApplyResult, GalleryEntry, Rule, SyncPlan


def _ts(ms: int | None, style: str = "R") -> str:
    return f"<t:{unix_seconds(ms)}:{style}>" if ms else "never"


def rules_embed(rules: list[Rule]) -> discord.Embed:
    """`/wallet-admin rule list`."""
    embed = discord.Embed(title="NFT role rules", colour=discord.Colour.blurple())
    if not rules:
        embed.description = "No rules yet. Add one with `/wallet-admin rule add`."
        return embed
    embed.description = "\n".join(rule.describe() for rule in rules)[:4000]
    embed.set_footer(text="Rules for one role are alternatives; rules sharing a group must all hold.")
    return embed


def sync_text(plan: SyncPlan, result: ApplyResult) -> str:
    """One paragraph after a sync."""
    blocks = ", ".join(f"chain {c} block {b}" for c, b in plan.blocks.items()) or "no chain read"
    text = (f"Checked {plural(plan.wallets, 'wallet')} at {blocks} with {plural(plan.rpc_calls, 'RPC call')}: "
            f"{plural(result.added, 'role')} given, {result.removed} taken")
    if result.failed:
        text += f", {result.failed} could not be changed"
    text += "."
    if plan.unknown:
        text += f" {plural(plan.unknown, 'member/role answer')} were unknown, so those roles were left as they are."
    if plan.errors:  # why answers were unknown: a wrong chain, no code, the node failed
        text += "\n" + "\n".join(f"❗ {error}" for error in plan.errors[:3])
    if result.problems:
        text += "\n⚠️ " + "\n⚠️ ".join(result.problems.values())
    return text[:1900]


def status_embed(status: dict | None) -> discord.Embed:
    """`/wallet-admin status`."""
    embed = discord.Embed(title="NFT role sync", colour=discord.Colour.blurple())
    if status is None or not status.get("last"):
        embed.description = "No sync has run yet."
    else:
        last = status["last"]
        blocks = ", ".join(f"chain {c}: {b}" for c, b in last["blocks"].items()) or "none"
        embed.description = (
            f"Last sync {_ts(last['at_ms'])} ({last['scope']}, {last['seconds']} s)\n"
            f"Blocks: {blocks}\nWallets checked: {last['wallets']}\n"
            f"Roles given: {last['added']} · taken: {last['removed']} · failed: {last['failed']} · "
            f"left alone (unknown): {last['unknown']}\nRPC calls: {last['rpc_calls']}")
        if last["errors"]:
            embed.add_field(name="Errors", value="\n".join(last["errors"])[:1000], inline=False)
    if status and status.get("next_due_ms"):
        embed.add_field(name="Next periodic sync", value=_ts(status["next_due_ms"]), inline=False)
    if status and status.get("problems"):
        embed.add_field(name="Problems", value="\n".join(status["problems"])[:1000], inline=False)
    return embed


def test_text(member: str, rules: list[Rule], plan: SyncPlan, user_id: int) -> str:
    """`/wallet-admin rule test member`: what the member would get, and why."""
    if not rules:
        return "There are no NFT rules yet."
    holdings = plan.holdings.get(user_id, {})
    lines = [f"**{member}** has {plural(plan.wallets, 'linked wallet')}."]
    for rule in rules:
        h = holdings.get(rule.rule_id)
        count = "no wallets" if h is None else f"holds {h.count}{'+ (some unknown)' if h.unknown else ''}"
        lines.append(f"• rule #{rule.rule_id} → <@&{rule.role_id}>: {count}")
    for role_id, status in plan.statuses.get(user_id, {}).items():
        verdict = {True: "✅ qualifies", False: "❌ does not qualify", None: "❔ unknown (kept as is)"}
        lines.append(f"<@&{role_id}>: {verdict[status]}")
    if plan.errors:
        lines.append("Errors: " + "; ".join(plan.errors)[:500])
    return "\n".join(lines)[:1900]


def gallery_embed(member: str, wallets: int, entries: list[GalleryEntry]) -> discord.Embed:
    """`/wallet gallery`: per collection, the token ids held (or how many)."""
    embed = discord.Embed(title=f"{member}'s NFT gallery", colour=discord.Colour.teal())
    if not wallets:
        embed.description = "No linked wallets. Use `/wallet link`."
        return embed
    if not entries:
        embed.description = "This server has no NFT collections configured yet."
        return embed
    embed.description = f"{plural(wallets, 'linked wallet')}."
    for entry in entries[:25]:
        name = f"{STANDARDS[entry.standard]} {entry.contract[:8]}…{entry.contract[-4:]} (chain {entry.chain_id})"
        if entry.tokens:
            shown = ", ".join(f"#{tid}" + (f" ×{n}" if n > 1 else "") for tid, n in entry.tokens[:40])
            more = f" and {len(entry.tokens) - 40} more" if len(entry.tokens) > 40 else ""
            label = ": " if entry.count == sum(n for _, n in entry.tokens) else ", among them "
            value = f"{plural(entry.count, 'token')}{label}{shown}{more}"
        else:
            value = plural(entry.count, "token") if entry.count else "none"
        if entry.unknown:
            value += " (the chain did not fully answer; may be more)"
        embed.add_field(name=name[:256], value=value[:1024], inline=False)
    return embed
