"""Stripe keys: shape-checked at start-up, never echoed; guild payment settings validated."""

from __future__ import annotations

import logging

import pytest

from bot.settings import SettingsError, load_settings
from economy.core.errors import InvalidInput
from economy.core.settings import parse_value

pytestmark = pytest.mark.timeout(60)

GOOD_KEY, GOOD_HOOK = "sk_test_abcdefghijklmnop", "whsec_abcdefghijklmnop"


@pytest.mark.parametrize("key,hook", [
    ("pk_test_abcdefghijklmnop", GOOD_HOOK),  # a publishable key is not a secret key
    ("sk_live_short", GOOD_HOOK),
    (GOOD_KEY, "abcdefghijklmnop"),
    (GOOD_KEY, None),  # half configured
])
def test_wrong_looking_keys_stop_start_up_without_echoing_them(key, hook, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SettingsError) as error:
        load_settings(_env_file=None, stripe_secret_key=key, stripe_webhook_secret=hook)
    text = "\n".join(error.value.problems)
    assert "STRIPE" in text.upper()
    assert key not in text and (hook is None or hook not in text)
    assert key not in caplog.text


def test_good_keys_build_a_gateway_and_stay_hidden():
    settings = load_settings(_env_file=None, stripe_secret_key=f" {GOOD_KEY} ",
                             stripe_webhook_secret=GOOD_HOOK)
    assert GOOD_KEY not in repr(settings) and GOOD_HOOK not in repr(settings)
    assert settings.stripe_gateway() is not None
    assert load_settings(_env_file=None, stripe_secret_key="", stripe_webhook_secret="") \
        .stripe_gateway() is None


def test_guild_payment_settings_are_validated():
    assert parse_value("payments_currency", " EUR ") == "eur"
    with pytest.raises(InvalidInput):
        parse_value("payments_currency", "btc")
    with pytest.raises(InvalidInput):
        parse_value("payments_fee_bps", "6000")
    with pytest.raises(InvalidInput):
        parse_value("payments_payout_mode", "paypal")
    for pasted in ("rk_live_abcdefghijk", "whsec_abcdefghijkl", "my sk_test_abcdefghij"):
        with pytest.raises(InvalidInput) as error:
            parse_value("currency_name", pasted)
        assert pasted not in error.value.message
