"""Checking documents against the `$jsonSchema` declarations of economy/repos/schemas.py.

The subset of MongoDB's `$jsonSchema` the declarations use, evaluated in Python exactly as a
MongoDB validator evaluates it: `bsonType` (a name or a list of names), `properties` (each
checked only when the field is present), `required`, `items` (every element of an array) and
`additionalProperties` (allowed unless `false`). The BSON type of a Python value is the type
PyMongo sends for it: an `int` is "int" within 32 bits and "long" beyond, `bson.Int64` is
"long", `bool` is "bool" (never a number), `datetime` is "date".

Used by the export and import (economy/core/dump.py), migration 0013 (repairs) and the test suite's
leftover-document check (tests/schema_guard.py).
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bson import Binary, Code, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp

Doc = dict[str, Any]

_INT32 = range(-(2**31), 2**31)

_BY_CLASS: dict[type, str] = {
    bool: "bool", float: "double", str: "string", dict: "object", list: "array",
    type(None): "null", datetime.datetime: "date", ObjectId: "objectId", bytes: "binData",
    Binary: "binData", uuid.UUID: "binData", Decimal128: "decimal", Int64: "long",
    Regex: "regex", re.Pattern: "regex", Code: "javascript", Timestamp: "timestamp",
    MinKey: "minKey", MaxKey: "maxKey", tuple: "array",
}


def bson_type(value: Any) -> str:
    """The BSON type name (`$type` alias) PyMongo would encode `value` as."""
    kind = type(value)
    if kind is int:
        return "int" if value in _INT32 else "long"
    name = _BY_CLASS.get(kind)
    if name is not None:
        return name
    for base, alias in _BY_CLASS.items():  # subclasses (SON, RawBSON dicts, ...)
        if isinstance(value, base):
            return alias
    if isinstance(value, int):
        return "int" if value in _INT32 else "long"
    return kind.__name__


def _allowed(schema: Doc) -> tuple[str, ...] | None:
    types = schema.get("bsonType")
    if types is None:
        return None
    return (types,) if isinstance(types, str) else tuple(types)


@dataclass(frozen=True)
class Mismatch:
    """One field whose value the schema refuses."""

    field: str
    expected: str
    got: str

    def __str__(self) -> str:
        return f"`{self.field}` is {self.got}, declared {self.expected}"


def mismatches(schema: Doc, value: Any, path: str = "") -> Iterator[Mismatch]:
    """Every place where `value` breaks `schema` (nothing when it conforms)."""
    allowed = _allowed(schema)
    got = bson_type(value)
    # ("number" is MongoDB's alias for any numeric type.)
    if allowed is not None and got not in allowed \
            and not ("number" in allowed and got in ("int", "long", "double", "decimal")):
        yield Mismatch(path or "(document)", "/".join(allowed), f"{got} {value!r:.40}")
        return
    if isinstance(value, dict):
        for name in schema.get("required", ()):
            if name not in value:
                yield Mismatch(_join(path, name), "required", "missing")
        properties = schema.get("properties", {})
        for name, item in value.items():
            sub = properties.get(name)
            if sub is not None:
                yield from mismatches(sub, item, _join(path, name))
            elif schema.get("additionalProperties") is False:
                yield Mismatch(_join(path, name), "no such field", bson_type(item))
    elif isinstance(value, list | tuple) and "items" in schema:
        for index, item in enumerate(value):
            yield from mismatches(schema["items"], item, f"{path}.{index}")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def stored_date(text: str) -> datetime.datetime | None:
    """The datetime the embedded store wrote as text for a date set by `$set` (Python's
    `str(datetime)`, e.g. `2026-01-02 03:04:05.123000+00:00`), or None if `text` is not one.
    A date without an offset is UTC (the bot writes only aware UTC dates)."""
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed


def _is_date(allowed: tuple[str, ...] | None) -> bool:
    return allowed is not None and "date" in allowed and "string" not in allowed


def normalise(schema: Doc, value: Any) -> tuple[Any, int]:
    """`value` with what the embedded store used to make of `$set` values undone: an int 0/1
    where the schema declares only "bool" becomes the bool, and text that is a datetime where
    the schema declares a date (and not a string) becomes the date. Returns the value and how
    many fields changed. Nothing else is converted."""
    allowed = _allowed(schema)
    if allowed == ("bool",) and type(value) in (int, Int64) and value in (0, 1):
        return bool(value), 1
    if type(value) is str and _is_date(allowed) and (date := stored_date(value)) is not None:
        return date, 1
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        changed = 0
        out = value
        for name, item in value.items():
            sub = properties.get(name)
            if sub is None:
                continue
            new, n = normalise(sub, item)
            if n:
                if out is value:
                    out = dict(value)
                out[name] = new
                changed += n
        return out, changed
    if isinstance(value, list) and "items" in schema:
        results = [normalise(schema["items"], item) for item in value]
        changed = sum(n for _, n in results)
        return ([new for new, _ in results] if changed else value), changed
    return value, 0


def bool_paths(schema: Doc, prefix: str = "") -> Iterator[str]:
    """Dotted paths of every field declared as exactly "bool" (arrays not entered)."""
    for name, sub in schema.get("properties", {}).items():
        path = _join(prefix, name)
        if _allowed(sub) == ("bool",):
            yield path
        elif "properties" in sub:
            yield from bool_paths(sub, path)


def date_paths(schema: Doc, prefix: str = "") -> Iterator[str]:
    """Dotted paths of every field declared as a date (arrays not entered)."""
    for name, sub in schema.get("properties", {}).items():
        path = _join(prefix, name)
        if _is_date(_allowed(sub)):
            yield path
        elif "properties" in sub:
            yield from date_paths(sub, path)


def survey(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(dotted path, BSON type) of every field of a document, nested ones included
    (array elements as `path.[]`); used to compare the declarations with what tests write."""
    if isinstance(value, dict):
        for name, item in value.items():
            sub = _join(path, name)
            yield sub, bson_type(item)
            yield from survey(item, sub)
    elif isinstance(value, list):
        for item in value:
            yield f"{path}.[]", bson_type(item)
            yield from survey(item, f"{path}.[]")
