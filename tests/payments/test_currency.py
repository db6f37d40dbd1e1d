"""Stripe's minor units per currency: parsing, formatting, minimums (economy/payments/currencies.py)."""

from __future__ import annotations

import re

import pytest

from economy.core.errors import InvalidInput
from economy.core.settings import parse_value
from economy.marketplace.models import format_cents
from economy.payments.currencies import (
    CARD_CURRENCIES,
    MINIMUM_CHARGE,
    check_amount,
    currency,
    format_amount,
    minor_per_major,
    parse_amount,
)

pytestmark = pytest.mark.timeout(60)


def test_minor_units_as_stripe_counts_them():
    assert [minor_per_major(c) for c in ("usd", "eur", "jpy", "krw", "xof", "kwd", "bhd")] == \
        [100, 100, 1, 1, 1, 1000, 1000]
    # ISK and UGX: zero-decimal money the API still counts in hundredths, whole units only.
    assert (currency("isk").exponent, currency("isk").step) == (2, 100)
    assert currency("ugx").step == 100 and currency("kwd").step == 10


def test_documented_minimum_charges():
    assert {c: MINIMUM_CHARGE[c] for c in ("usd", "eur", "gbp", "jpy", "huf", "mxn", "thb")} == \
        {"usd": 50, "eur": 50, "gbp": 30, "jpy": 50, "huf": 17500, "mxn": 1000, "thb": 1000}
    assert "kwd" not in CARD_CURRENCIES  # no documented minimum: not offered


@pytest.mark.parametrize("text,code,amount", [
    ("4.99", "usd", 499), ("$12", "usd", 1200), ("1,000", "usd", 100_000), ("12,5", "eur", 1250),
    ("€0.50", "eur", 50), ("500", "jpy", 500), ("¥1,200", "jpy", 1200), ("0.3", "gbp", 30),
    ("12.5", "kwd", 12_500), ("1500", "isk", 150_000), ("200 huf", "huf", 20_000),
])
def test_parse(text, code, amount):
    assert parse_amount(text, code) == amount


@pytest.mark.parametrize("text,code,message", [
    ("4.999", "usd", "at most 2 decimals"), ("500.5", "jpy", "no fractions"),
    ("0.20", "usd", "at least $0.50"), ("49", "jpy", "at least 50 JPY"),
    ("12.505", "kwd", "steps of"), ("12.5", "isk", "no fractions"), ("abc", "usd", "like"),
    ("1000000", "usd", "at most"), ("0", "jpy", "more than 0"), ("-5", "usd", "like"),
])
def test_parse_refuses(text, code, message):
    with pytest.raises(InvalidInput, match=re.escape(message)):
        parse_amount(text, code)


def test_format():
    assert [format_amount(a, c) for a, c in ((1250, "usd"), (500, "jpy"), (1250, "eur"),
                                            (12_500, "kwd"), (150_000, "isk"), (5, "usd"))] == \
        ["$12.50", "500 JPY", "12.50 EUR", "12.500 KWD", "1,500 ISK", "$0.05"]
    assert format_cents(500, "jpy") == "500 JPY"  # the marketplace's helper follows the module


def test_check_amount_and_guild_setting():
    assert check_amount(50, "jpy") == 50
    with pytest.raises(InvalidInput):
        check_amount(49, "jpy")
    assert parse_value("payments_currency", "HUF") == "huf"
    for refused in ("kwd", "btc"):
        with pytest.raises(InvalidInput):
            parse_value("payments_currency", refused)
