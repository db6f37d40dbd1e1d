"""Daily challenges and member preferences: unique guards and the indexes their reads use."""

from pymongo import ASCENDING, IndexModel


def _ix(*keys: str, name: str, unique: bool = False) -> IndexModel:
    return IndexModel([(k, ASCENDING) for k in keys], name=name, unique=unique)


async def up(db) -> None:
    """Create the challenge collections' indexes (re-runnable)."""
    await db["challenge_defs"].create_indexes([
        _ix("guild_id", "challenge_id", name="guild_challenge", unique=True)])
    await db["challenge_counters"].create_indexes([_ix("guild_id", name="guild", unique=True)])
    await db["challenge_days"].create_indexes([_ix("guild_id", "day", name="guild_day", unique=True)])
    await db["challenge_progress"].create_indexes([
        _ix("guild_id", "day", "challenge_id", "user_id", name="guild_day_challenge_user", unique=True),
        _ix("guild_id", "day", "user_id", name="guild_day_user"),
    ])
    await db["challenge_completions"].create_indexes([
        # The "completed once per member, challenge and day" guard.
        _ix("guild_id", "user_id", "day", "challenge_id", name="guild_user_day_challenge", unique=True),
        _ix("guild_id", "user_id", "at_ms", name="guild_user_time"),
        _ix("guild_id", "user_id", "week", name="guild_user_week"),
        _ix("guild_id", "day", "challenge_id", name="guild_day_challenge"),
        _ix("guild_id", "paid", name="guild_paid"),
        _ix("guild_id", "type", "at_ms", name="guild_type_time"),  # competitions over one type
        _ix("guild_id", "at_ms", name="guild_time"),  # competitions over every type
    ])
    await db["challenge_competitions"].create_indexes([
        _ix("guild_id", "competition_id", name="guild_competition", unique=True),
        _ix("guild_id", "status", "ends_ms", name="guild_status_end"),
    ])
    await db["challenge_streaks"].create_indexes([
        _ix("guild_id", "user_id", name="guild_user", unique=True),
        _ix("guild_id", "last_n", "streak", "user_id", name="guild_alive_streak"),
    ])
    await db["challenge_scores"].create_indexes([
        _ix("guild_id", "period", "n", "user_id", name="guild_period_score")])
    await db["challenge_thanks"].create_indexes([
        _ix("guild_id", "day", "thanker_id", "helper_id", name="guild_day_pair", unique=True)])
    await db["challenge_submissions"].create_indexes([
        _ix("guild_id", "day", "challenge_id", "user_id", name="guild_day_challenge_user", unique=True),
        _ix("guild_id", "submission_id", name="guild_submission", unique=True),
    ])
    await db["challenge_votes"].create_indexes([
        _ix("guild_id", "submission_id", "voter_id", name="guild_submission_voter", unique=True)])
    await db["member_prefs"].create_indexes([_ix("guild_id", "user_id", name="guild_user", unique=True)])
