"""SHARD_IDS / SHARD_COUNT: a slice of the shards per process, MongoDB only; the embedded store
refuses a second process and says why."""

from __future__ import annotations

import pytest

from bot.app import GemsBot
from bot.settings import SettingsError, load_settings
from bot.store import StoreError, open_store

pytestmark = pytest.mark.timeout(60)
MONGO = "mongodb://db.example:27017/?replicaSet=rs0"


def test_a_process_runs_a_slice_of_the_shards(services):
    settings = load_settings(_env_file=None, shard_count=4, shard_ids="2, 3", mongodb_uri=MONGO,
                             discord_token="x.y.z")
    assert settings.shard_ids == [2, 3]
    bot = GemsBot(services=services, settings=settings, run_jobs=False)
    assert bot.shard_ids == [2, 3] and bot.shard_count == 4
    assert bot.guild_work.local_shards() == [2, 3]
    assert bot.guild_work.owns(3 << 22) and not bot.guild_work.owns(1 << 22)


@pytest.mark.parametrize(("options", "problem"), [
    ({"shard_ids": "0,1"}, "SHARD_IDS needs SHARD_COUNT"),
    ({"shard_ids": "0,4", "shard_count": 4, "mongodb_uri": MONGO}, "below SHARD_COUNT"),
    ({"shard_ids": "1,1", "shard_count": 4, "mongodb_uri": MONGO}, "distinct"),
    ({"shard_ids": "0,1", "shard_count": 4}, "several processes need MongoDB"),
])
def test_bad_shard_slices_are_refused_with_a_reason(options, problem):
    with pytest.raises(SettingsError) as refused:
        load_settings(_env_file=None, discord_token="secret.token.value", **options)
    text = str(refused.value)
    assert problem in text
    assert "secret.token.value" not in text  # model-level errors never echo the settings


@pytest.mark.slow  # child processes
async def test_second_process_on_an_embedded_store_is_refused_and_told_why(tmp_path):
    async with await open_store(mongodb_uri=None, database_name="gems", data_dir=tmp_path):
        with pytest.raises(StoreError) as refused:
            await open_store(mongodb_uri=None, database_name="gems", data_dir=tmp_path)
    text = str(refused.value)
    assert "cannot keep two processes' transactions apart" in text and "MONGODB_URI" in text
