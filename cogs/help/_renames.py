"""Commands renamed by the one grammar (issue 24): old path -> new path, without the slash.

`/help command:<old name>` answers "renamed to …" from this map; docs/renamed-commands.md shows
it as a table (a test keeps both in step), and `devtools/rename_commands.py` applied it to the
tests, demo scenes, benches and docs. Leaves first; a group's line covers the rest of it.
"""

from __future__ import annotations

#: Old command (leaf or group) -> its new name.
RENAMED: dict[str, str] = {
    # boosts: staff only
    "boost schedule": "boost-admin schedule",
    "boost list": "boost-admin list",
    "boost cancel": "boost-admin cancel",
    "boost stats": "boost-admin stats",
    "boost": "boost-admin",
    # currency: the season board lives in one place
    "gems leaderboard board:season": "season leaderboard",
    # events: managing events is staff work
    "event create": "event-admin create",
    "event edit": "event-admin edit",
    "event cancel": "event-admin cancel",
    "event complete": "event-admin complete",
    # marketplace: one member group /market (+ /list-item) and /market-admin
    "listing edit": "market edit",
    "listing withdraw": "market withdraw",
    "listing relist": "market relist",
    "listing mine": "market mine",
    "listing": "market",
    "marketplace browse": "market browse",
    "marketplace search": "market search",
    "marketplace view": "market view",
    "marketplace alert add": "market alert add",
    "marketplace alert list": "market alert list",
    "marketplace alert remove": "market alert remove",
    "marketplace alert": "market alert",
    "marketplace": "market",
    "wishlist view": "market wishlist view",
    "wishlist remove": "market wishlist remove",
    "wishlist": "market wishlist",
    "listing-mod queue": "market-admin queue",
    "listing-mod": "market-admin",
    # mentorship: one member group /mentor and /mentor-admin
    "mentor goal add": "mentor milestone add",
    "mentor goal done": "mentor milestone done",
    "mentor goal list": "mentor milestone list",
    "mentor goal": "mentor milestone",
    "mentee apply": "mentor find",
    "mentee withdraw": "mentor find-cancel",
    "mentee": "mentor",
    "mentorship end": "mentor end",
    "mentorship rate": "mentor rate",
    "mentorship list": "mentor list",
    "mentorship": "mentor",
    "skill verify": "mentor-admin verify",
    "skill": "mentor-admin",
    "mentorlead round": "mentor-admin round",
    "mentorlead queue": "mentor-admin applications",
    "mentorlead": "mentor-admin",
    "guide submit": "mentor guide submit",
    "guide search": "mentor guide search",
    "guide view": "mentor guide view",
    "guide upvote": "mentor guide upvote",
    "guide queue": "mentor-admin guides",
    "guide": "mentor guide",
    # core: the feature switches are settings
    "modules list": "settings modules list",
    "modules enable": "settings modules enable",
    "modules disable": "settings modules disable",
    "modules": "settings modules",
    # nft: /wallet for members, /wallet-admin for staff
    "wallet-mod lookup": "wallet-admin lookup",
    "wallet-mod": "wallet-admin",
    "nft rule add": "wallet-admin rule add",
    "nft rule list": "wallet-admin rule list",
    "nft rule remove": "wallet-admin rule remove",
    "nft rule test": "wallet-admin rule test",
    "nft rule": "wallet-admin rule",
    "nft sync": "wallet-admin sync",
    "nft status": "wallet-admin status",
    "nft": "wallet-admin",
    # payments: packs are sold in EUR too, so /pay
    "usd packs": "pay packs",
    "usd connect": "pay connect",
    "usd": "pay",
    "payments pack add": "pay-admin pack add",
    "payments pack remove": "pay-admin pack remove",
    "payments pack": "pay-admin pack",
    "payments status": "pay-admin status",
    "payments history": "pay-admin history",
    "payments paid": "pay-admin paid",
    "payments": "pay-admin",
    # trades: disputes are the moderators' part of /trades-admin
    "dispute list": "trades-admin dispute list",
    "dispute view": "trades-admin dispute view",
    "dispute resolve": "trades-admin dispute resolve",
    "dispute": "trades-admin dispute",
    # profile: one /profile group for a member's card, badges, privacy and time zone (issue 25)
    "my timezone": "profile timezone",
    "my": "profile",
    "badge list": "profile badges",
    "badge showcase": "profile showcase",
    "badge profile": "profile view",
    "badge": "profile",
}


def renamed_to(name: str) -> str | None:
    """The new name of an old command (`/listing mine`, `nft`), or None if it was not renamed."""
    wanted = " ".join(name.strip().lstrip("/").lower().split())
    return RENAMED.get(wanted)
