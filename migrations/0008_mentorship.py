"""Mentorship: mentors, applications, proposals/pairs, goals, ratings, guides, verified skills."""

from pymongo import ASCENDING, IndexModel


def _ix(*keys: str, name: str, unique: bool = False) -> IndexModel:
    return IndexModel([(k, ASCENDING) for k in keys], name=name, unique=unique)


async def up(db) -> None:
    """Create the mentorship indexes (every one starts with guild_id)."""
    await db["mentors"].create_indexes([
        _ix("guild_id", "user_id", name="guild_user_unique", unique=True),
        _ix("guild_id", "status", name="guild_status"),
    ])
    await db["mentees"].create_indexes([
        _ix("guild_id", "user_id", name="guild_user_unique", unique=True),
        _ix("guild_id", "status", name="guild_status"),
    ])
    await db["mentorships"].create_indexes([
        _ix("guild_id", "mentorship_id", name="guild_id_unique", unique=True),
        _ix("guild_id", "status", "expires_ms", name="guild_status_expires"),
        _ix("guild_id", "mentee_id", name="guild_mentee"),
        _ix("guild_id", "mentor_id", name="guild_mentor"),
        _ix("guild_id", "thread_id", name="guild_thread"),
    ])
    await db["mentor_goals"].create_indexes([
        _ix("guild_id", "mentorship_id", "goal_no", name="guild_pair_goal_unique", unique=True),
    ])
    await db["mentor_ratings"].create_indexes([
        _ix("guild_id", "mentorship_id", "rater_id", name="guild_pair_rater_unique", unique=True),
        _ix("guild_id", "ratee_id", name="guild_ratee"),
    ])
    await db["guides"].create_indexes([
        _ix("guild_id", "guide_id", name="guild_guide_unique", unique=True),
        _ix("guild_id", "status", name="guild_status"),
    ])
    # Postings have deterministic _ids ("guild:guide:term"); search matches (guild_id, term).
    await db["guide_terms"].create_indexes([_ix("guild_id", "term", name="guild_term")])
    await db["guide_images"].create_indexes([
        _ix("guild_id", "guide_id", name="guild_guide_unique", unique=True),
    ])
    await db["guide_votes"].create_indexes([
        _ix("guild_id", "guide_id", "voter_id", name="guild_guide_voter_unique", unique=True),
    ])
    await db["skill_verifications"].create_indexes([
        _ix("guild_id", "user_id", "skill", name="guild_user_skill_unique", unique=True),
    ])
