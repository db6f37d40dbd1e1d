"""The mentorship repository answers a lost unique-index race itself: the services never see the
store's DuplicateKeyError (a concurrent upsert that loses the unique index, as MongoDB answers
two requests creating the same document at once; the embedded store never races).
`LosesRaceOnce` plays the other request: it lets the write apply, then answers as the loser would.
"""

from __future__ import annotations

import pytest

from economy.core.actor import Actor
from economy.mentorship.guide_repo import GuideRepo
from economy.mentorship.repo import MentorshipRepo
from tests.marketplace.test_storage_errors import LosesRaceOnce
from tests.mentorship.test_mentorship import G, mentor

pytestmark = pytest.mark.timeout(60)


async def test_first_mentorship_ids_of_a_guild_survive_a_lost_counter_upsert(services):
    repo = MentorshipRepo(services.db)
    repo.counters = LosesRaceOnce(repo.counters, "find_one_and_update")
    # The racing request took number 1; this one gets the next number instead of an error.
    assert await repo.next_id(f"{G}:mentorships") == 2
    assert repo.counters.raised == 1
    assert await repo.next_id(f"{G}:mentorships") == 3


async def test_verifying_a_skill_another_mentor_verified_at_the_same_moment(services):
    await mentor(services, 1, "cad:4")
    mentors = services.mentorship.mentors
    repo = MentorshipRepo(services.db)
    repo.verified = LosesRaceOnce(repo.verified, "update_one")
    mentors._repo = repo
    assert await mentors.verify_skill(G, Actor(1), 10, "cad", 3) == "cad"
    assert repo.verified.raised == 1
    assert await mentors.verified(G, 10) == {"cad": 3}


async def test_first_guide_numbers_of_a_guild_survive_a_lost_counter_upsert(services):
    repo = GuideRepo(services.db)
    repo.counters = LosesRaceOnce(repo.counters, "find_one_and_update")
    assert await repo.next_id(G) == 2
    assert repo.counters.raised == 1
    assert await repo.next_id(G) == 3
