"""/healthz and /metrics over HTTP, command/ledger/job/DM metrics, and log ids per command."""

from __future__ import annotations

import json
import logging

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pymongo.errors import OperationFailure

from bot.log_format import ContextFilter, JsonFormatter
from cogs._shared.notify import send_dm
from tests.e2e_fixtures import seed

pytestmark = pytest.mark.timeout(60)


async def _get(gc, path: str) -> tuple[int, str, str]:
    url = f"http://127.0.0.1:{gc.bot.web.port}{path}"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, response.headers["Content-Type"], await response.text()


async def _samples(gc) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics as {(name, sorted labels): value}."""
    status, content_type, text = await _get(gc, "/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_healthz_reports_each_check(gc):
    status, _, body = await _get(gc, "/healthz")
    health = json.loads(body)
    assert status == 200, health
    assert health["ok"] and health["gateway"] and health["store"] and health["scheduler"] is True
    assert health["shards"] == {"0": True}

    gc.bot.jobs.scheduler.shutdown(wait=False)  # a dead scheduler makes the process unhealthy
    status, _, body = await _get(gc, "/healthz")
    assert status == 503
    assert json.loads(body)["scheduler"] is False and json.loads(body)["ok"] is False


async def test_healthz_fails_when_the_store_is_gone(gc, monkeypatch):
    async def broken(*args, **kwargs):
        raise OperationFailure("store down")

    monkeypatch.setattr(gc.services.db, "ping", broken)
    status, _, body = await _get(gc, "/healthz")
    assert status == 503 and json.loads(body)["store"] is False
    assert (await _samples(gc))[("gems_store_errors_total", (("operation", "ping"),))] == 1


async def test_metrics_count_commands_ledger_jobs_and_dms(gc):
    await seed(gc, "alice", 100)
    assert not (await gc.slash("alice", "gems daily")).ephemeral
    refused = await gc.slash("alice", "gems daily")  # already claimed: a friendly refusal
    assert refused.ephemeral
    await gc.slash("alice", "gems give", member=gc["bob"], amount=5)
    await gc.advance(minutes=1)  # runs every job once
    assert await send_dm(gc.bot, gc.guild.id, gc["bob"].id, "hello")
    await gc.services.member_prefs.set_dms(gc.guild.id, gc["carol"].id, False)
    assert not await send_dm(gc.bot, gc.guild.id, gc["carol"].id, "hello")

    samples = await _samples(gc)
    assert samples[("gems_commands_total", (("command", "gems daily"), ("outcome", "ok")))] == 1
    assert samples[("gems_commands_total",
                    (("command", "gems daily"), ("outcome", "refused")))] == 1
    assert samples[("gems_commands_total", (("command", "gems give"), ("outcome", "ok")))] == 1
    assert samples[("gems_interaction_latency_seconds_count", (("command", "gems daily"),))] == 2
    assert samples[("gems_ledger_operations_total",
                    (("kind", "daily"), ("outcome", "applied")))] == 1
    assert samples[("gems_ledger_operations_total",
                    (("kind", "transfer"), ("outcome", "applied")))] == 1
    assert samples[("gems_ledger_operations_total",
                    (("kind", "grant"), ("outcome", "applied")))] == 1
    assert samples[("gems_job_runs_total", (("job", "activity-flush"),))] >= 1
    assert samples[("gems_job_duration_seconds_count", (("job", "activity-flush"),))] >= 1
    assert samples[("gems_dms_total", (("outcome", "sent"),))] == 1
    assert samples[("gems_dms_total", (("outcome", "opted_out"),))] == 1
    assert ("gems_gateway_latency_seconds", (("shard", "0"),)) in samples


async def test_job_failures_are_counted(gc):
    async def broken() -> None:
        raise RuntimeError("boom")

    gc.bot.jobs.add("always-fails", broken, every_seconds=3600)
    await gc.bot.jobs.run_due()
    samples = await _samples(gc)
    assert samples[("gems_job_failures_total", (("job", "always-fails"),))] == 1
    assert samples[("gems_job_runs_total", (("job", "always-fails"),))] == 1


async def test_transaction_retries_are_counted(gc):
    attempts = []

    async def flaky(session):
        attempts.append(1)
        if len(attempts) == 1:
            raise OperationFailure("conflict", 112,
                                   {"errorLabels": ["TransientTransactionError"]})
        await gc.db["probe"].insert_one({"n": 1}, session=session)

    await gc.services.db.transaction(flaky)
    assert len(attempts) == 2
    assert (await _samples(gc))[("gems_transaction_retries_total", ())] == 1


async def test_every_log_line_of_a_command_carries_its_ids(gc, monkeypatch):
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("gems.test-probe")
    logger.addHandler(handler)
    original = gc.services.ledger.account_and_rank

    async def logged_account(guild_id, user_id):
        logger.warning("reading account %s", user_id)
        return await original(guild_id, user_id)

    monkeypatch.setattr(gc.services.ledger, "account_and_rank", logged_account)
    try:
        result = await gc.slash("alice", "gems balance")
        logger.warning("outside any command")
    finally:
        logger.removeHandler(handler)
    inside, outside = (json.loads(line) for line in lines)
    assert inside["message"] == f"reading account {gc['alice'].id}"
    assert inside["guild_id"] == gc.guild.id and inside["user_id"] == gc["alice"].id
    assert inside["interaction_id"] == result.record.id
    assert "guild_id" not in outside and "interaction_id" not in outside


async def test_unexpected_errors_count_as_error_outcomes(gc, monkeypatch):
    async def broken(guild_id, user_id):
        raise RuntimeError("bug")

    monkeypatch.setattr(gc.services.ledger, "account_and_rank", broken)
    result = await gc.slash("alice", "gems balance")
    assert "something went wrong" in result.text
    samples = await _samples(gc)
    assert samples[("gems_commands_total",
                    (("command", "gems balance"), ("outcome", "error")))] == 1
    assert ("gems_commands_total", (("command", "gems balance"), ("outcome", "ok"))) not in samples
