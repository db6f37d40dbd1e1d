"""Authority reaches a service as an `Actor` (economy/core/actor.py), never as a flag the caller
computed: this walks every public method of every service object in the built `Services` and
fails on a parameter named like an authority flag, so the old style cannot come back."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

pytestmark = pytest.mark.timeout(60)

#: Parameter names that mean "the caller decided the authority" (use `actor: Actor` instead).
FLAG_NAMES = frozenset({"admin", "moderator", "is_admin", "is_moderator", "staff"})

#: Packages allowed an authority flag, one line each with why (none left: every feature's
#: services take the Actor).
ALLOWED: dict[str, str] = {}


def _economy_object(value: Any) -> bool:
    module = type(value).__module__ or ""
    return module.startswith("economy.") and not inspect.isclass(value)


def _service_objects(services: Any) -> list[tuple[str, Any]]:
    """Every economy object reachable from the Services (core fields, features, and the parts
    of feature namespaces such as `services.marketplace.listings`)."""
    roots = [(name, value) for name, value in vars(services).items() if name != "features"]
    roots += [(name, value) for name, value in services.features.items()]
    found: dict[int, tuple[str, Any]] = {}
    todo = [(name, value) for name, value in roots if _economy_object(value)]
    while todo:
        name, obj = todo.pop()
        if id(obj) in found:
            continue
        found[id(obj)] = (name, obj)
        for attr, value in vars(obj).items() if hasattr(obj, "__dict__") else ():
            if _economy_object(value):
                todo.append((f"{name}.{attr.lstrip('_')}", value))
    return list(found.values())


def test_no_service_method_takes_an_authority_flag(services):
    objects = _service_objects(services)
    assert len(objects) > 40, [n for n, _ in objects]  # the walk reached the feature services
    offenders = []
    for name, obj in objects:
        module = type(obj).__module__
        if any(module == p or module.startswith(p + ".") for p in ALLOWED):
            continue
        for method_name, method in inspect.getmembers(type(obj), inspect.isfunction):
            if method_name.startswith("_"):
                continue
            flags = FLAG_NAMES & set(inspect.signature(method).parameters)
            if flags:
                offenders.append(f"services.{name}: {type(obj).__qualname__}.{method_name}({', '.join(sorted(flags))}) "
                                 f"[{module}]")
    assert not offenders, ("take `actor: Actor` and check it in the service instead of a flag "
                           "the caller computed:\n" + "\n".join(sorted(set(offenders))))
