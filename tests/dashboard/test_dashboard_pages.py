"""The dashboard's guild pages: access at every request, CSRF, forged guild ids, the settings
service's validation and history, moderation through the listing service, member lookup and
formula-safe exports."""

from __future__ import annotations

import re

import pytest

from discord_sandbox import ADMINISTRATOR
from economy.core.actor import Actor
from tests.dashboard.conftest import browser_session, csrf_of, get, login

pytestmark = pytest.mark.timeout(90)


async def pending_listing(gc, seller: str = "alice", title: str = "Blue sapphire ring") -> int:
    """A listing of `seller` waiting for a moderator."""
    services, guild = gc.services, gc.guild.id
    await services.settings.set(guild, Actor.system(), "marketplace_approval", "on")
    draft = await services.marketplace.listings.create_draft(
        guild, gc[seller].id, category="rings", condition="new", title=title,
        description="A lovely 2 ct sapphire.", specs="metal: platinum", tags="sapphire",
        price_gems=500)
    result = await services.marketplace.listings.publish(guild, gc[seller].id, draft.listing_id)
    assert result.needs_approval
    return draft.listing_id


async def post(http, url: str, data: dict) -> tuple[int, str]:
    async with http.post(url, data=data, allow_redirects=False) as resp:
        return resp.status, await resp.text()


async def test_every_page_answers_with_a_strict_csp_and_no_inline_script(dgc):
    async with browser_session() as http:
        await login(dgc, http, "admin")
        g = f"{dgc.base}/dashboard/g/{dgc.guild.id}"
        for path in ("", "/settings/core", "/settings/marketplace", "/moderation", "/members",
                     "/members?q=alice", "/exports"):
            async with http.get(g + path, allow_redirects=False) as resp:
                page = await resp.text()
                assert resp.status == 200, (path, page[:300])
                csp = resp.headers["Content-Security-Policy"]
                assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
                assert "unsafe-inline" not in csp and resp.headers["X-Frame-Options"] == "DENY"
            assert not re.search(r"<script(?![^>]*\bsrc=)", page), path  # no inline scripts
            assert " on" + "click=" not in page


async def test_access_is_checked_again_at_every_request(dgc):
    async with browser_session() as http:
        await login(dgc, http, "admin")
        overview = f"{dgc.base}/dashboard/g/{dgc.guild.id}"
        assert (await get(http, overview))[0] == 200
        # The admin role is taken away in Discord: the very next request is refused.
        dgc.sb.world.change_role(dgc.guild, dgc["admin"].id, dgc.admin_role.id, add=False,
                                 by_bot=False)
        await dgc.sb.settle()
        status, page = await get(http, overview)
        assert status == 403 and "access" in page
        # The GEMS admin role (a setting, not a Discord permission) lets them in again.
        helper = dgc.sb.create_role(dgc.guild, "GEMS staff")
        dgc.sb.give_role(dgc["admin"], helper)
        await dgc.services.settings.set(dgc.guild.id, Actor.system(), "admin_role_id", str(helper.id))
        await dgc.sb.settle()
        assert (await get(http, overview))[0] == 200
        # Leaving the server ends it too.
        dgc.sb.remove_member(dgc.guild, dgc["admin"])
        await dgc.sb.settle()
        assert (await get(http, overview))[0] == 403


async def test_moderators_see_the_moderation_pages_only(dgc):
    listing_id = await pending_listing(dgc)
    async with browser_session() as http:
        await login(dgc, http, "mod")
        status, page = await get(http, dgc.base + "/dashboard")
        assert "Moderate" in page and "Manage" not in page
        g = f"{dgc.base}/dashboard/g/{dgc.guild.id}"
        status, page = await get(http, g + "/moderation")
        assert status == 200 and f"#{listing_id} Blue sapphire ring" in page
        assert "/settings/core" not in page  # no admin tabs
        for path in ("", "/settings/core", "/members?q=alice", "/exports", "/exports/trades.csv"):
            assert (await get(http, g + path))[0] == 403, path
        status, _ = await post(http, g + "/settings/core",
                               {"csrf": csrf_of(page), "currency_name": "Rocks"})
        assert status == 403
    assert (await dgc.services.settings.get(dgc.guild.id)).currency_name != "Rocks"


async def test_a_setting_changed_on_the_web_is_validated_recorded_and_audited(dgc):
    async with browser_session() as http:
        await login(dgc, http, "admin")
        url = f"{dgc.base}/dashboard/g/{dgc.guild.id}/settings/core"
        _, page = await get(http, url)
        assert 'name="currency_name"' in page
        token = csrf_of(page)
        async with http.post(url, data={"csrf": token, "currency_name": "Shells"}) as resp:
            page = await resp.text()  # the redirect (303) is followed back to the page
            assert resp.history[0].status == 303
        assert "Saved: currency_name" in page and "GEMS → Shells" in page
        settings = await dgc.services.settings.get(dgc.guild.id)
        assert settings.currency_name == "Shells"
        history = await dgc.services.settings.history(dgc.guild.id)
        assert (history[0]["key"], history[0]["actor_id"]) == ("currency_name", dgc["admin"].id)
        logged = await dgc.db["audit_log"].find({"action": "dashboard.settings"}).to_list()
        assert [(e["actor_id"], e["target"]) for e in logged] == [
            (dgc["admin"].id, "setting:currency_name")]
        # The same validation as /settings set: refused, nothing stored.
        status, page = await post(http, url, {"csrf": token, "currency_name": "@everyone"})
        assert status == 400 and "not a valid value for `currency_name`" in page
        status, page = await post(http, url, {"csrf": token, "currency_emoji": "not an emoji"})
        assert status == 400
        assert (await dgc.services.settings.get(dgc.guild.id)).currency_name == "Shells"
        # Discord sees it: /settings view shows the new name.
        r = await dgc.slash("admin", "settings view", search="currency_name")
        assert "Shells" in r.text or "Shells" in str(r.embeds[0].description)


async def test_csrf_missing_wrong_or_from_another_session_is_refused(dgc):
    url = f"{dgc.base}/dashboard/g/{dgc.guild.id}/settings/core"
    async with browser_session() as http, browser_session() as other:
        await login(dgc, http, "admin")
        await login(dgc, other, "admin")
        _, page = await get(other, url)
        others = csrf_of(page)
        for data in ({"currency_name": "Pebbles"}, {"csrf": "", "currency_name": "Pebbles"},
                     {"csrf": "x" * 43, "currency_name": "Pebbles"},
                     {"csrf": others, "currency_name": "Pebbles"}):
            status, body = await post(http, url, data)
            assert status == 403 and "out of date" in body, data
    assert (await dgc.services.settings.get(dgc.guild.id)).currency_name != "Pebbles"
    assert await dgc.services.settings.history(dgc.guild.id) == []


async def test_forged_guild_ids_in_urls_and_forms_reach_nothing_of_another_guild(dgc):
    sb = dgc.sb
    other = sb.create_guild("Other Place")
    sb.add_member(other, dgc["admin"].user)  # a plain member there
    stranger = sb.add_member(other, "stranger", permissions=ADMINISTRATOR)
    foreign_channel = sb.create_channel(other, "elsewhere")
    foreign_role = sb.create_role(other, "Elsewhere role")
    await sb.settle()
    # A listing pending in the other guild (its id may equal one of ours: ids are per guild).
    await dgc.services.settings.set(other.id, Actor.system(), "marketplace_approval", "on")
    draft = await dgc.services.marketplace.listings.create_draft(
        other.id, stranger.id, category="rings", condition="new", title="Foreign ring",
        description="Not yours to approve.", specs="", tags="", price_gems=10)
    await dgc.services.marketplace.listings.publish(other.id, stranger.id, draft.listing_id)
    async with browser_session() as http:
        await login(dgc, http, "admin")
        base = f"{dgc.base}/dashboard/g"
        # URLs naming the other guild (the admin is only a member there) or no guild at all.
        for path in ("", "/settings/core", "/moderation", "/members?q=stranger",
                     "/exports/balances.csv"):
            assert (await get(http, f"{base}/{other.id}{path}"))[0] == 403, path
        assert (await get(http, f"{base}/123456789012345/moderation"))[0] == 403
        _, page = await get(http, f"{base}/{dgc.guild.id}/settings/core")
        token = csrf_of(page)
        # Posting to the other guild with our CSRF token: refused before anything is read.
        status, _ = await post(http, f"{base}/{other.id}/settings/core",
                               {"csrf": token, "currency_name": "Stolen"})
        assert status == 403
        status, _ = await post(http, f"{base}/{other.id}/moderation/listings/{draft.listing_id}",
                               {"csrf": token, "action": "approve"})
        assert status == 403
        # Our own guild's form carrying the other guild's ids.
        url = f"{base}/{dgc.guild.id}/settings/core"
        status, page = await post(http, url, {"csrf": token, "admin_role_id": str(foreign_role.id),
                                              "guild_id": str(other.id)})
        assert status == 400 and "this server" in page
        _, page = await get(http, f"{base}/{dgc.guild.id}/settings/marketplace")
        status, page = await post(http, f"{base}/{dgc.guild.id}/settings/marketplace",
                                  {"csrf": token, "marketplace_channel_id": str(foreign_channel.id)})
        assert status == 400 and "this server" in page
        status, page = await post(http, f"{base}/{dgc.guild.id}/moderation/listings/"
                                         f"{draft.listing_id}", {"csrf": token,
                                                                 "action": "approve"})
        assert status == 400  # no such pending listing here
    mine = await dgc.services.settings.get(dgc.guild.id)
    theirs = await dgc.services.settings.get(other.id)
    assert mine.admin_role_id is None and mine.marketplace_channel_id is None
    assert theirs.currency_name != "Stolen"
    foreign = await dgc.services.marketplace.listings.pending(other.id, Actor.system())
    assert [item.listing_id for item in foreign] == [draft.listing_id]


async def test_pickers_offer_the_guilds_channels_and_roles_and_save_them(dgc):
    async with browser_session() as http:
        await login(dgc, http, "admin")
        url = f"{dgc.base}/dashboard/g/{dgc.guild.id}/settings/core"
        _, page = await get(http, url)
        assert f'<option value="{dgc.mod_role.id}">Moderator</option>' in page
        assert f'value="{dgc.general.id}"' in page or "general" in page
        status, _ = await post(http, url, {"csrf": csrf_of(page),
                                           "moderator_role_id": str(dgc.mod_role.id)})
        assert status == 303
    assert (await dgc.services.settings.get(dgc.guild.id)).moderator_role_id == dgc.mod_role.id


async def test_a_moderator_approves_and_rejects_through_the_listing_service(dgc):
    first = await pending_listing(dgc)
    second = await pending_listing(dgc, title="Green emerald brooch")
    own = await pending_listing(dgc, seller="mod", title="Mod's own opal")
    await dgc.services.settings.set(dgc.guild.id, Actor.system(), "marketplace_channel_id", str(dgc.general.id))
    async with browser_session() as http:
        await login(dgc, http, "mod")
        url = f"{dgc.base}/dashboard/g/{dgc.guild.id}/moderation"
        _, page = await get(http, url)
        token = csrf_of(page)
        status, _ = await post(http, f"{url}/listings/{first}", {"csrf": token,
                                                                 "action": "approve"})
        assert status == 303
        status, page = await post(http, f"{url}/listings/{first}", {"csrf": token,
                                                                    "action": "approve"})
        assert status == 400 and "no longer waiting" in page  # a double click changes nothing
        status, page = await post(http, f"{url}/listings/{second}", {"csrf": token,
                                                                     "action": "reject",
                                                                     "reason": "x"})
        assert status == 400 and "reason" in page
        status, _ = await post(http, f"{url}/listings/{second}",
                               {"csrf": token, "action": "reject", "reason": "blurry photos"})
        assert status == 303
        status, page = await post(http, f"{url}/listings/{own}", {"csrf": token,
                                                                  "action": "approve"})
        assert status == 400 and "own listing" in page
    await dgc.sb.settle()
    listings = dgc.services.marketplace.listings
    assert [item.listing_id for item in await listings.pending(dgc.guild.id, Actor.system())] == [own]
    approved = await dgc.db["listings"].find_one({"guild_id": dgc.guild.id, "listing_id": first})
    assert approved["status"] == "active" and approved["moderated_by"] == dgc["mod"].id
    rejected = await dgc.db["listings"].find_one({"guild_id": dgc.guild.id, "listing_id": second})
    assert rejected["status"] == "rejected" and rejected["rejected_reason"] == "blurry photos"
    logged = {(e["action"], e["target"], e["actor_id"])
              async for e in dgc.db["audit_log"].find({"action": {"$regex": "^dashboard"}})}
    assert logged == {("dashboard.listing.approve", f"listing:{first}", dgc["mod"].id),
                      ("dashboard.listing.reject", f"listing:{second}", dgc["mod"].id)}
    # The same announcement and DMs as the Discord buttons: live in the channel, sellers told.
    posted = [m.text for m in dgc.sb.channel_messages(dgc.general)]
    assert any("Blue sapphire ring" in text for text in posted), posted
    dms = " ".join(m.text for m in dgc.sb.dms(dgc["alice"]))
    assert "approved" in dms and "blurry photos" in dms


async def test_writes_are_rate_limited_per_member(dgc):
    async with browser_session() as http:
        await login(dgc, http, "admin")
        url = f"{dgc.base}/dashboard/g/{dgc.guild.id}/settings/core"
        _, page = await get(http, url)
        token = csrf_of(page)
        statuses = [(await post(http, url, {"csrf": token, "currency_name": f"Coin{i}"}))[0]
                    for i in range(31)]
    assert statuses[:30] == [303] * 30 and statuses[30] == 429


async def test_member_lookup_and_formula_safe_exports(dgc):
    evil = dgc.add_member("=HYPERLINK(x)")
    await dgc.sb.settle()
    await dgc.services.ledger.grant(dgc.guild.id, Actor.system(), evil.id, 70, reason="seed", key="seed:evil")
    await dgc.services.ledger.grant(dgc.guild.id, Actor.system(), dgc["alice"].id, 250, reason="seed",
                                    key="seed:alice")
    async with browser_session() as http:
        await login(dgc, http, "admin")
        g = f"{dgc.base}/dashboard/g/{dgc.guild.id}"
        status, page = await get(http, g + "/members?q=alice")
        assert status == 200 and "250" in page and "Ledger" in page and "Wallets" in page
        status, page = await get(http, g + "/members?q=nobody-like-this")
        assert "No member" in page
        async with http.get(g + "/exports/balances.csv") as resp:
            assert resp.status == 200 and resp.content_type == "text/csv"
            assert "attachment" in resp.headers["Content-Disposition"]
            text = await resp.text()
        assert f"{evil.id},'=HYPERLINK(x),70" in text and f"{dgc['alice'].id},alice,250" in text
        async with http.get(g + "/exports/trades.csv") as resp:
            assert resp.status == 200 and (await resp.text()).startswith("trade_id,")
    actions = sorted([e["action"], e.get("target")] for e in await dgc.db["audit_log"].find(
        {"guild_id": dgc.guild.id}).to_list())
    assert ["dashboard.export", "export:balances"] in actions
    assert ["trades.export", "trades"] in actions  # the trade export audits itself too


async def test_moderators_see_the_flags_raised_about_members(dgc):
    from economy.core.clock import to_ms
    from economy.repos.member_repo import MemberRepo

    quotas = MemberRepo(dgc.db)
    now = to_ms(dgc.clock.now())
    assert await quotas.claim_interval(dgc.guild.id, dgc["carol"].id, "flag:fan-in", now, 0)
    # Another guild's flag (same member) and an ordinary cooldown bucket are not shown.
    assert await quotas.claim_interval(dgc.guild.id + 1, dgc["dave"].id, "flag:fan-in", now, 0)
    assert await quotas.claim_interval(dgc.guild.id, dgc["erin"].id, "daily", now, 0)
    async with browser_session() as http:
        await login(dgc, http, "mod")
        status, page = await get(http, f"{dgc.base}/dashboard/g/{dgc.guild.id}/moderation")
    assert status == 200
    flags = page.split("<h2>Flags</h2>")[1]
    assert "carol" in flags and "several young accounts" in flags
    assert "dave" not in flags and "erin" not in flags
    assert "/members?q=" not in flags  # moderators get no member-lookup link


async def disputed_trade(gc, price: int = 300) -> int:
    """alice sells bob something for `price` GEMS; bob disputes it (all through the services)."""
    guild = gc.guild.id
    await gc.services.settings.set(guild, Actor.system(), "escrow_new_member_trades", "0")
    await gc.services.ledger.grant(guild, Actor.system(), gc["bob"].id, price, reason="seed",
                                   key=f"seed:bob:{price}")
    trade = await gc.services.trades.offer(guild, gc["alice"].id, gc["bob"].id, price,
                                           "A carved jade figure")
    await gc.services.trades.accept(guild, trade.trade_id, gc["bob"].id)
    await gc.services.disputes.open(guild, trade.trade_id, gc["bob"].id, "It never arrived")
    return trade.trade_id


async def test_a_moderator_resolves_a_dispute_as_the_discord_command_does(dgc):
    trade_id = await disputed_trade(dgc)
    bob_before = (await dgc.services.ledger.account(dgc.guild.id, dgc["bob"].id))
    async with browser_session() as http:
        await login(dgc, http, "mod")
        url = f"{dgc.base}/dashboard/g/{dgc.guild.id}/moderation"
        _, page = await get(http, url)
        assert f"Resolve #{trade_id}" in page
        token = csrf_of(page)
        target = f"{url}/disputes/{trade_id}"
        # Bad input first: nothing changes.
        for form, words in (({"outcome": "split"}, "percent"),
                            ({"outcome": "split", "percent": "140"}, "0 to 100"),
                            ({"outcome": "split", "percent": "-5"}, "whole percent"),
                            ({"outcome": "burn"}, "Refund the buyer")):
            status, page = await post(http, target, {"csrf": token, **form})
            assert status == 400 and words in page, (form, page[-400:])
        status, _ = await post(http, target, {"outcome": "refund"})  # no CSRF token
        assert status == 403
        assert (await dgc.services.ledger.account(dgc.guild.id, dgc["bob"].id)) == bob_before
        status, _ = await post(http, target, {"csrf": token, "outcome": "refund",
                                              "note": "No tracking number"})
        assert status == 303
        status, page = await post(http, target, {"csrf": token, "outcome": "release"})
        assert status == 400  # a double click settles nothing twice
    await dgc.sb.settle()
    trade = await dgc.services.disputes.view(dgc.guild.id, Actor.system(), trade_id)
    assert trade.status == "resolved" and trade.resolution["outcome"] == "refund"
    bob = await dgc.services.ledger.account(dgc.guild.id, dgc["bob"].id)
    assert bob.held == 0 and bob.balance == bob_before.balance + bob_before.held
    logged = [(e["action"], e["target"], e["actor_id"])
              async for e in dgc.db["audit_log"].find({"action": "dashboard.dispute.resolve"})]
    assert logged == [("dashboard.dispute.resolve", f"trade:{trade_id}", dgc["mod"].id)]
    for name in ("alice", "bob"):  # both sides hear it as from /trades-admin dispute resolve
        assert any("resolved this dispute" in m.text for m in dgc.sb.dms(dgc[name]))


async def test_a_party_to_the_dispute_cannot_resolve_it_on_the_web(dgc):
    trade_id = await disputed_trade(dgc)
    role = dgc.sb.create_role(dgc.guild, "Mods")
    await dgc.services.settings.set(dgc.guild.id, Actor.system(), "moderator_role_id", str(role.id))
    dgc.sb.give_role(dgc["alice"], role)
    await dgc.sb.settle()
    async with browser_session() as http:
        await login(dgc, http, "alice")
        url = f"{dgc.base}/dashboard/g/{dgc.guild.id}/moderation"
        _, page = await get(http, url)
        status, page = await post(http, f"{url}/disputes/{trade_id}",
                                  {"csrf": csrf_of(page), "outcome": "release"})
        assert status == 400
    trade = await dgc.services.disputes.view(dgc.guild.id, Actor.system(), trade_id)
    assert trade.status == "disputed"


async def test_the_overview_charts_the_insights_rollups_with_their_csvs(dgc):
    from datetime import UTC, datetime

    guild = dgc.guild.id
    dgc.clock.set(datetime(2026, 3, 1, 9, tzinfo=UTC))
    await dgc.services.ledger.grant(guild, Actor.system(), dgc["bob"].id, 500, reason="seed",
                                    key="seed:bob")
    await dgc.services.ledger.transfer(guild, dgc["bob"].id, dgc["carol"].id, 100, key="t:1")
    async with browser_session() as http:
        await login(dgc, http, "admin")
        url = f"{dgc.base}/dashboard/g/{guild}"
        status, page = await get(http, url)
        assert status == 200 and "No daily rollups yet" in page and "charts/economy.png" not in page
    dgc.clock.set(datetime(2026, 3, 3, 0, 10, tzinfo=UTC))  # two days on: a new session
    await dgc.services.insights.run_due([guild])
    async with browser_session() as http:
        await login(dgc, http, "admin")
        status, page = await get(http, url)
        assert status == 200
        for view in ("economy", "engagement", "marketplace"):
            assert f'src="/dashboard/g/{guild}/charts/{view}.png"' in page
            async with http.get(f"{url}/charts/{view}.png") as resp:
                assert resp.status == 200 and resp.content_type == "image/png"
                assert (await resp.read()).startswith(b"\x89PNG\r\n\x1a\n")
        assert "Minted" in page or "minted" in page  # the key numbers beside the chart
        async with http.get(f"{url}/charts/economy.csv") as resp:
            assert resp.status == 200 and "attachment" in resp.headers["Content-Disposition"]
            rows = (await resp.text()).splitlines()
        assert rows[0].startswith("day,") and any(r.startswith("2026-03-01,") for r in rows)
        async with http.get(f"{url}/charts/wealth.png") as resp:
            assert resp.status == 404  # only the three views
    async with browser_session() as http:  # moderators see the moderation pages only
        await login(dgc, http, "mod")
        async with http.get(f"{dgc.base}/dashboard/g/{guild}/charts/economy.png",
                            allow_redirects=False) as resp:
            assert resp.status == 403
