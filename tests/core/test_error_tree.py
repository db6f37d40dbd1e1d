"""One error tree: every domain error sits on one branch of economy/core/errors.py."""

from __future__ import annotations

import importlib
import pkgutil

import economy
from economy.core import errors

BRANCHES = (errors.InvalidInput, errors.NotFound, errors.NotPermitted, errors.InsufficientFunds,
            errors.Cooldown, errors.Conflict, errors.Unavailable, errors.NeedsConfirmation,
            errors.OutcomeUnknown)


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_domain_error_is_on_one_branch_of_the_tree():
    """Features subclass a branch, never GemsError itself, so the handler (and a reader) knows
    what kind of refusal each one is; no error sits on two branches."""
    for info in pkgutil.walk_packages(economy.__path__, "economy."):
        importlib.import_module(info.name)
    found = list(_all_subclasses(errors.GemsError))
    strays = [f"{cls.__module__}.{cls.__qualname__}" for cls in found
              if cls not in BRANCHES and not issubclass(cls, BRANCHES)]
    assert strays == []
    doubles = [cls.__qualname__ for cls in found
               if sum(issubclass(cls, branch) for branch in BRANCHES) > 1]
    assert doubles == []
    # The feature errors main added are on the branch that says what they are.
    from economy.badges.service import AlreadyHeld, SoldOut
    from economy.core.modules import FeatureOff
    from economy.payments.stripe_gateway import PaymentsUnavailable, WebhookRejected
    from economy.trades.models import QuoteChanged, TradeUnavailable
    assert issubclass(SoldOut, errors.Conflict) and issubclass(AlreadyHeld, errors.Conflict)
    assert issubclass(TradeUnavailable, errors.Conflict) and issubclass(QuoteChanged, errors.Conflict)
    assert issubclass(FeatureOff, errors.Unavailable)
    assert issubclass(PaymentsUnavailable, errors.Unavailable)
    assert issubclass(WebhookRejected, errors.InvalidInput)
    assert issubclass(errors.InvalidAmount, errors.InvalidInput)
