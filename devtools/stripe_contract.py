"""The request contract of the pinned Stripe API version, read from the `stripe` package itself.

The package's `stripe/params/**` modules are generated from Stripe's OpenAPI spec for exactly the
API version the package sends (`stripe.api_version`). Each endpoint's parameters are a TypedDict;
this module turns one into a checker for the form-encoded body Stripe receives:
- a key that is not in the TypedDict is unknown (`parameter_unknown`) — so a parameter Stripe
  removed in the pinned version (Checkout's `payment_method_types`) is refused without any
  hand-written list;
- `NotRequired`/`Required` decide what is missing (`parameter_missing`);
- `int`, `bool`, `float`/`Decimal`, `str`, `Literal[...]`, nested TypedDicts, `List[...]` and
  `Dict[str, str]` decide what a wire string must parse to (`parameter_invalid_integer`, ...).
An enum typed `Literal[...] | str` is checked against the literals: the `| str` is the SDK's
forward-compatibility hatch for values newer API versions add, not something the pinned version
accepts. Errors have Stripe's shape: {"type": "invalid_request_error", "code", "param",
"message"}.

The RequestOptions keys every params class inherits (api_key, idempotency_key, ...) are client
options, never sent as parameters, so they are not part of the schema.
"""

from __future__ import annotations

import decimal
import functools
import re
import types
import typing
from dataclasses import dataclass
from typing import Any, NotRequired, Required

import stripe
import stripe._request_options as _request_options
from stripe._stripe_context import StripeContext
from stripe._stripe_object import UntypedStripeObject
from typing_extensions import is_typeddict

#: Names the inherited RequestOptions annotations refer to (its module imports them itself).
_OPTION_NAMES = {**vars(_request_options), "StripeContext": StripeContext}
_CLIENT_OPTIONS = frozenset(_request_options.RequestOptions.__annotations__)
_INTEGER = re.compile(r"^-?\d+$")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")


class ContractError(Exception):
    """A request the pinned API version refuses (HTTP 400)."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None,
                 kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.message, self.param, self.code, self.kind = message, param, code, kind

    def body(self) -> dict[str, Any]:
        """Stripe's error body."""
        error: dict[str, Any] = {"type": self.kind, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        return {"error": error}


@dataclass(frozen=True)
class _Field:
    annotation: Any
    required: bool


@functools.cache
def fields_of(params: type) -> dict[str, _Field]:
    """The wire parameters of a params TypedDict: name -> (type, required)."""
    hints = typing.get_type_hints(params, localns=_OPTION_NAMES, include_extras=True)
    total = getattr(params, "__total__", True)
    out = {}
    for name, hint in hints.items():
        if name in _CLIENT_OPTIONS and params.__name__ != "RequestOptions":
            continue
        required = total
        origin = typing.get_origin(hint)
        if origin in (NotRequired, typing.NotRequired):
            hint, required = typing.get_args(hint)[0], False
        elif origin in (Required, typing.Required):
            hint, required = typing.get_args(hint)[0], True
        out[name] = _Field(hint, required)
    return out


def check(params: type, values: dict[str, Any]) -> None:
    """Raise ContractError unless the decoded form body fits the params TypedDict."""
    _check_object(params, values, "")


def _join(path: str, key: str | int) -> str:
    return str(key) if not path else f"{path}[{key}]"


def _check_object(params: type, value: Any, path: str) -> None:
    if not isinstance(value, dict):
        raise ContractError(f"Invalid object{f' for {path}' if path else ''}: expected a hash "
                            f"of parameters.", path or None)
    fields = fields_of(params)
    for key in value:
        if key not in fields:
            raise ContractError(f"Received unknown parameter: {_join(path, key)}",
                                _join(path, key), "parameter_unknown")
    for name, field in fields.items():
        if name not in value:
            if field.required:
                raise ContractError(f"Missing required param: {_join(path, name)}.",
                                    _join(path, name), "parameter_missing")
            continue
        _check_value(field.annotation, value[name], _join(path, name))


def _literals(annotation: Any) -> tuple[Any, ...] | None:
    if typing.get_origin(annotation) is typing.Literal:
        return typing.get_args(annotation)
    return None


def _check_value(annotation: Any, value: Any, path: str) -> None:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        _check_union(typing.get_args(annotation), value, path)
        return
    literals = _literals(annotation)
    if literals is not None:
        _check_enum(literals, value, path)
        return
    if is_typeddict(annotation):
        _check_object(annotation, value, path)
        return
    if origin in (list, typing.List):  # noqa: UP006 - the package's own spelling
        _check_list(typing.get_args(annotation)[0], value, path)
        return
    if origin in (dict, typing.Dict) or origin is UntypedStripeObject \
            or annotation is UntypedStripeObject:  # noqa: UP006
        _check_map(annotation, value, path)
        return
    if annotation is typing.Any or annotation is object:
        return
    _check_scalar(annotation, value, path)


def _check_union(options: tuple[Any, ...], value: Any, path: str) -> None:
    enums = [o for o in options if _literals(o) is not None]
    named = [v for o in enums for v in typing.get_args(o) if v != ""]
    # `Literal[...] | str`: the `str` is the SDK's escape hatch for future enum values.
    rest = [o for o in options if o not in enums and not (named and o is str)]
    if value == "" and any("" in typing.get_args(o) for o in enums):
        return  # an empty value unsets the parameter where the spec allows it
    errors: list[ContractError] = []
    for option in [*(o for o in enums if set(typing.get_args(o)) - {""}), *rest]:
        try:
            _check_value(option, value, path)
            return
        except ContractError as error:
            errors.append(error)
    if options and type(None) in options and value is None:
        return
    raise errors[0] if errors else ContractError(f"Invalid value for {path}.", path)


def _check_enum(literals: tuple[Any, ...], value: Any, path: str) -> None:
    allowed = [str(v).lower() if isinstance(v, bool) else str(v) for v in literals]
    if not isinstance(value, str) or value not in allowed:
        shown = ", ".join(allowed[:-1]) + (f", or {allowed[-1]}" if len(allowed) > 1
                                            else allowed[0])
        raise ContractError(f"Invalid {path}: must be one of {shown}", path)


def _check_list(item: Any, value: Any, path: str) -> None:
    if isinstance(value, dict) and value and all(k.isdigit() for k in value):
        value = [value[k] for k in sorted(value, key=int)]
    if value == "":
        raise ContractError(f"You passed an empty string for '{path}'. We assume empty values "
                            "are an attempt to unset a parameter; however "
                            f"'{path}' cannot be unset.", path, "parameter_invalid_empty")
    if not isinstance(value, list):
        raise ContractError(f"Invalid array for {path}.", path)
    for i, element in enumerate(value):
        _check_value(item, element, _join(path, i))


def _check_map(annotation: Any, value: Any, path: str) -> None:
    if not isinstance(value, dict):
        raise ContractError(f"Invalid hash for {path}.", path)
    args = typing.get_args(annotation)
    inner = args[-1] if args else typing.Any
    for key, element in value.items():
        _check_value(inner, element, _join(path, key))


def _check_scalar(annotation: Any, value: Any, path: str) -> None:
    if isinstance(value, dict | list):
        raise ContractError(f"Invalid {getattr(annotation, '__name__', 'value')} for {path}: "
                            "a hash or array was given.", path)
    if annotation is str:
        return
    if value == "":
        raise ContractError(f"You passed an empty string for '{path}'. We assume empty values "
                            "are an attempt to unset a parameter; however "
                            f"'{path}' cannot be unset.", path, "parameter_invalid_empty")
    if annotation is bool:
        if value not in ("true", "false"):
            raise ContractError(f"Invalid boolean: {value}", path)
    elif annotation is int:
        if not _INTEGER.match(value):
            raise ContractError(f"Invalid integer: {value}", path, "parameter_invalid_integer")
    elif annotation in (float, decimal.Decimal):
        if not _NUMBER.match(value):
            raise ContractError(f"Invalid decimal: {value}", path)
    elif annotation is type(None):
        raise ContractError(f"Invalid value for {path}.", path)
    else:
        raise TypeError(f"stripe_contract: no rule for {annotation!r} at {path}")


def pinned_api_version() -> str:
    """The API version the installed package sends on every request."""
    return str(stripe.api_version)
