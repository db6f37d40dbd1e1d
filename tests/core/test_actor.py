"""The Actor: authority as the Discord edge saw it, checked again by the services."""

from __future__ import annotations

import pytest

from economy.core.actor import Actor
from economy.core.errors import NotPermitted

G = 10


def test_flags_count_only_in_the_guild_they_were_computed_for():
    admin = Actor(1, is_admin=True, guild_id=G)
    assert admin.admin(G) and admin.moderator(G)  # an admin is a moderator too
    assert not admin.admin(G + 1) and not admin.moderator(G + 1)
    with pytest.raises(NotPermitted, match="admins"):
        admin.require_admin(G + 1)
    dm = Actor(1, guild_id=0)  # what the edge builds in a DM: no authority anywhere
    assert not dm.admin(G) and not dm.moderator(G) and not dm.holds(G, 5)


def test_feature_roles_are_decided_from_role_ids_and_the_setting():
    member = Actor(2, role_ids=frozenset({5}), guild_id=G)
    assert member.admin_or(G, 5) and member.holds(G, 5)
    assert not member.admin_or(G, None)  # role not configured
    assert not member.admin_or(G, 6) and not member.admin_or(G + 1, 5)
    assert Actor(3, is_admin=True).admin_or(G, None)  # unbound (tests, CLI): flags count


def test_moderator_is_not_admin_and_the_system_actor_passes_every_check():
    moderator = Actor(4, is_moderator=True, guild_id=G)
    assert moderator.moderator(G) and not moderator.admin(G)
    with pytest.raises(NotPermitted, match="moderators"):
        Actor(4).require_moderator(G)
    system = Actor.system()
    system.require_admin(G)
    system.require_moderator(G + 1)
    assert system.user_id == 0 and system.admin_or(G + 2, None)
