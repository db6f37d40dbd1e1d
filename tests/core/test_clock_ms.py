"""The epoch-ms helpers of economy.core.clock: exact, UTC, inverse of each other."""

from datetime import UTC, datetime, timedelta, timezone

from economy.core.clock import from_ms, span_ms, to_ms, unix_seconds


def test_to_ms_is_exact_where_the_float_product_falls_one_millisecond_short():
    when = datetime(2038, 7, 9, 19, 20, 51, 101000, tzinfo=UTC)
    assert int(when.timestamp() * 1000) == 2162316051100  # the old helpers' float answer
    assert to_ms(when) == 2162316051101


def test_round_trip_and_truncation():
    for value in (0, 1_767_614_400_123, 2_162_316_051_101, 4_102_444_799_999):
        assert to_ms(from_ms(value)) == value
    at = datetime(2026, 1, 5, 12, 0, 0, 123999, tzinfo=UTC)
    assert to_ms(at) == 1_767_614_400_123  # truncated to the millisecond, like int(...)


def test_from_ms_is_aware_utc_and_to_ms_respects_offsets():
    assert from_ms(1_767_614_400_000) == datetime(2026, 1, 5, 12, tzinfo=UTC)
    assert from_ms(0).tzinfo is UTC
    paris = datetime(2026, 1, 5, 13, tzinfo=timezone(timedelta(hours=1)))
    assert to_ms(paris) == 1_767_614_400_000
    assert to_ms(datetime(2026, 1, 5, 12)) == 1_767_614_400_000  # naive counts as UTC


def test_span_ms_and_unix_seconds_are_exact_integers():
    assert span_ms(timedelta(days=7)) == 7 * 24 * 3600 * 1000
    assert span_ms(timedelta(seconds=0.3)) == 300  # 0.3 * 1000 through a float is 300.00000000000006
    assert span_ms(timedelta(microseconds=1999)) == 1  # whole milliseconds, truncated
    assert isinstance(span_ms(timedelta(hours=1)), int)
    at = datetime(2026, 1, 5, 12, 0, 0, 999000, tzinfo=UTC)
    assert unix_seconds(to_ms(at)) == int(at.replace(microsecond=0).timestamp())


def test_no_hand_written_ms_conversions_left():
    """Durations and Discord/Stripe seconds go through the helpers, not `* 1000` / `// 1000`."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"[*/]\s*1000\b|\.total_seconds\(\)\s*\*|\b(?:60|3_600|86_400)_000\b")
    hits = [f"{path.relative_to(root)}:{number}"
            for folder in ("economy", "cogs", "bot")
            for path in sorted((root / folder).rglob("*.py"))
            if path.name != "clock.py"
            for number, line in enumerate(path.read_text().splitlines(), 1)
            if pattern.search(line.split("#")[0])]
    assert hits == []
