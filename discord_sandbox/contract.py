"""Discord's request-body contract, from its OpenAPI spec, checked on every body the sandbox serves.

The schemas come from the npm package ``discord-api-spec`` (generated daily from Discord's OpenAPI
spec), pinned in ``tests/contracts/discord/package.json``. ``export_schemas.mjs`` there converts
them to JSON Schema once per package version into ``tests/contracts/discord/.cache/`` (git-ignored;
built by :func:`ensure_schemas` with ``npm ci`` + ``node`` when missing). This module compiles the
schemas into small Python closures (once, lazily per route) and answers a body Discord would refuse
with Discord's error shape: HTTP 400 ``{"code": 50035, "message": "Invalid Form Body",
"errors": {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": ...}]}}}``.

Where the sandbox deliberately differs from the spec's letter (the one place that lists them):

- **Snowflakes** are typed as decimal strings in the spec, but Discord also accepts JSON integers,
  and discord.py sends integers in a few places (``recipient_id``, attachment ids, overwrite ids).
  :data:`SNOWFLAKE_REF` accepts both (an integer must be 0..2^64-1).
- **Permission bit sets** (``default_member_permissions``, role ``permissions``, overwrite
  ``allow``/``deny``) are numbers in the spec; Discord documents them as strings of digits and
  discord.py sends strings. Both forms are accepted, within the spec's bounds.
- **date-time** strings: zod's ISO pattern requires a trailing ``Z``; OpenAPI's ``date-time`` is
  RFC 3339, and Discord accepts offsets (``+00:00``, what ``datetime.isoformat()`` writes).
- **Unknown fields** are refused (the spec's objects, made strict), although Discord silently
  drops most of them: a field Discord ignores is a silent bug in the bot, so a test should fail.
  :data:`EXTRA_FIELDS` lists fields Discord does accept that the spec leaves out.
- Limits the spec does not express stay hand-written in :mod:`discord_sandbox.limits` (bot message
  content is 2,000 characters although the spec says 4,000 for users; total embed text 6,000; a
  select alone in its row; command name characters).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Where package.json, package-lock.json, export_schemas.mjs live (and node_modules/.cache).
SPEC_DIR = Path(__file__).resolve().parents[1] / "tests" / "contracts" / "discord"
PACKAGE = "discord-api-spec"
SNOWFLAKE_REF = "SnowflakeType"
#: Properties (by JSON name) that hold permission bit sets: a string of digits is accepted too.
PERMISSION_FIELDS = frozenset({"default_member_permissions", "permissions", "allow", "deny"})
_BOOL = {"type": ["boolean", "null"]}
_NUMBER = {"type": ["number", "null"]}
#: Fields discord.py 2.7 sends that Discord accepts but the spec's request schemas leave out:
#: schema name -> {field: schema}. discord.py writes ``tts`` into every message body (edits and
#: forum starter messages included, where Discord ignores it), ``flags`` into every embed (embed
#: flags, documented by Discord), ``nsfw`` into every command (age-restricted commands,
#: documented) and ``type: 11`` into forum posts.
EXTRA_FIELDS: dict[str, dict[str, Any]] = {
    "IncomingWebhookUpdateRequestPartial": {"tts": _BOOL},
    "IncomingWebhookUpdateForInteractionCallbackRequestPartial": {"tts": _BOOL},
    "MessageEditRequestPartial": {"tts": _BOOL},
    "BaseCreateMessageCreateRequest": {"tts": _BOOL},
    "RichEmbed": {"flags": _NUMBER},
    "ApplicationCommandUpdateRequest": {"nsfw": _BOOL},
    "ApplicationCommandCreateRequest": {"nsfw": _BOOL},
    "ApplicationCommandPatchRequestPartial": {"nsfw": _BOOL},
    "CreateForumThreadRequest": {"type": {"enum": [11]}},
}

Errors = dict[str, Any]
Validator = Callable[[Any], Errors | None]


class ContractUnavailable(RuntimeError):
    """The schemas are not built and cannot be (no node/npm, or the install failed)."""


# -- building the schema file ----------------------------------------------------------------


def pinned_version(spec_dir: Path = SPEC_DIR) -> str:
    """The exact ``discord-api-spec`` version pinned in package.json."""
    pkg = json.loads((spec_dir / "package.json").read_text())
    return str(pkg["dependencies"][PACKAGE])


def schema_path(spec_dir: Path = SPEC_DIR) -> Path:
    """The cache file for the pinned version (keyed by it: a bump means a new file)."""
    return spec_dir / ".cache" / f"{PACKAGE}-{pinned_version(spec_dir)}.json"


def _installed_version(spec_dir: Path) -> str | None:
    try:
        pkg = json.loads((spec_dir / "node_modules" / PACKAGE / "package.json").read_text())
    except (OSError, ValueError):
        return None
    return str(pkg.get("version"))


def ensure_schemas(spec_dir: Path = SPEC_DIR) -> Path:
    """The JSON Schema file for the pinned spec, built with npm and node when missing.

    Runs ``npm ci`` (exact versions from package-lock.json) when node_modules does not hold the
    pinned version, then ``node export_schemas.mjs``. A file lock keeps parallel test processes
    from building it twice. Raises :class:`ContractUnavailable` when node or npm is missing.
    """
    target = schema_path(spec_dir)
    if target.exists():
        return target
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise ContractUnavailable(
            f"node and npm are needed to build Discord's request schemas ({target.name}); "
            "install Node.js 20+ and run the tests again"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            return target
        want = pinned_version(spec_dir)
        if _installed_version(spec_dir) != want:
            _run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], spec_dir)
        if _installed_version(spec_dir) != want:
            raise ContractUnavailable(f"npm ci did not install {PACKAGE}@{want}")
        _run([node, "export_schemas.mjs", str(target)], spec_dir)
    return target


def _run(cmd: list[str], cwd: Path) -> None:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise ContractUnavailable(f"{' '.join(cmd[:2])} failed: {done.stderr.strip()[-2000:]}")


def load_contract(*, required: bool, spec_dir: Path = SPEC_DIR) -> Contract | None:
    """The contract, or None (with one log line) when it is unavailable and not ``required``.

    Tests pass ``required=True`` (a missing node fails them loudly); the offline demo passes
    False and runs without validation.
    """
    try:
        path = ensure_schemas(spec_dir) if required else schema_path(spec_dir)
        if not path.exists():
            raise ContractUnavailable(f"{path.name} is not built (the test suite builds it)")
        return Contract.from_file(path, pinned_version(spec_dir))
    except (ContractUnavailable, OSError, ValueError) as error:
        if required:
            raise
        log.warning("Discord contract validation is off: %s", error)
        return None


_SHARED: dict[bool | str, Contract | None] = {}


def shared_contract(*, required: bool) -> Contract | None:
    """One contract per process (validators compile once and are reused by every sandbox).

    ``GEMS_SANDBOX_CONTRACT=off`` turns validation off, only to measure what it costs.
    """
    if env_disabled():
        if "off" not in _SHARED:
            _SHARED["off"] = None
            log.warning("Discord contract validation is off (GEMS_SANDBOX_CONTRACT=off)")
        return None
    if required not in _SHARED:
        _SHARED[required] = load_contract(required=required)
    return _SHARED[required]


# -- the contract ----------------------------------------------------------------------------


class Contract:
    """Request-body validators for Discord routes, compiled once per route on first use."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.version = str(doc["version"])
        self._defs: dict[str, Any] = doc["defs"]
        self._bodies: dict[str, Any] = doc["routes"]
        # Literal segments of every spec path, so ".../messages/pins/{id}" is never read as
        # ".../messages/{id}/{id}" (files from before `literals` was exported: body routes only).
        self._literals = frozenset(doc.get("literals") or ()) | frozenset(
            seg for route in self._bodies for seg in route.partition(" ")[2].split("/")
            if seg and not seg.startswith("{")
        )
        self._routes = {
            (route.partition(" ")[0], self._route_key(route.partition(" ")[2])): route
            for route in self._bodies
        }
        self._compiled: dict[str, Validator] = {}
        self._compiler = _Compiler(self._defs)  # shared: a schema used by many routes compiles once
        self._by_route: dict[tuple[str, str], Validator | None] = {}
        #: Bodies validated and the seconds spent on them (to keep the cost measured).
        self.calls = 0
        self.seconds = 0.0

    @classmethod
    def from_file(cls, path: Path, expected_version: str) -> Contract:
        """Load a schema file; refuse one built from another package version."""
        doc = json.loads(path.read_text())
        if doc.get("package") != PACKAGE or str(doc.get("version")) != expected_version:
            raise ContractUnavailable(
                f"{path.name} holds {doc.get('package')}@{doc.get('version')}, "
                f"package.json pins {expected_version}: rebuild it (delete it and run the tests)"
            )
        return cls(doc)

    def validate(self, method: str, path: str, body: Any) -> Errors | None:
        """Discord's ``errors`` tree for a refused body, or None when it passes.

        ``path`` is relative to ``/api/v10`` with concrete or ``{param}`` segments; a route the
        spec gives no body schema accepts any body.
        """
        started = time.perf_counter()
        key = (method.upper(), self._route_key(path))
        if key not in self._by_route:
            name = self._routes.get(key)
            self._by_route[key] = None if name is None else self._compile_route(name)
        check = self._by_route[key]
        errors = None if check is None else check(body)
        self.calls += 1
        self.seconds += time.perf_counter() - started
        return errors

    def knows(self, method: str, path: str) -> bool:
        """True when the spec declares a request body for this route."""
        return (method.upper(), self._route_key(path)) in self._routes

    def _route_key(self, path: str) -> str:
        """``/channels/123/messages``, ``/channels/{channel_id}/messages`` -> ``/channels/{}/messages``.

        Segments the spec spells literally (``messages``, ``@me``, ``@original``) stay; ids,
        tokens and ``{params}`` become ``{}``.
        """
        parts = path.strip("/").split("/")
        return "/" + "/".join(p if p in self._literals else "{}" for p in parts)

    def _compile_route(self, name: str) -> Validator:
        if name not in self._compiled:
            self._compiled[name] = self._compiler.compile(self._bodies[name])
        return self._compiled[name]


#: The JSON Schema keywords zod 4 emits for the spec (and the TypeScript translation), all handled.
_KEYWORDS = frozenset({
    "$ref", "anyOf", "allOf", "not", "const", "enum", "type", "properties", "required",
    "additionalProperties", "propertyNames", "items", "minItems", "maxItems", "minLength",
    "maxLength", "minimum", "maximum", "pattern", "format",
})


class _Compiler:
    """JSON Schema (the subset zod 4 emits) -> closures returning Discord's error tree."""

    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs
        self.refs: dict[str, Validator] = {}

    def compile(self, schema: Any, *, prop: str | None = None) -> Validator:
        if schema is True or schema == {}:
            return _ok
        unknown = set(schema) - _KEYWORDS
        if unknown:  # a newer spec uses something this compiler would silently ignore
            raise ValueError(f"unsupported JSON Schema keywords {sorted(unknown)} in {schema}")
        if "$ref" in schema:
            return self._ref(schema["$ref"].rsplit("/", 1)[-1])
        if "anyOf" in schema:
            return self._any_of(schema["anyOf"], prop)
        if "allOf" in schema:
            parts = [self.compile(s, prop=prop) for s in schema["allOf"]]
            return lambda v: next((e for e in (p(v) for p in parts) if e), None)
        if "not" in schema:
            return lambda v: _error("BASE_TYPE_INVALID", "This field is not allowed here.")
        if "const" in schema or "enum" in schema:
            return _choices(schema.get("enum") or [schema["const"]])
        types = schema.get("type")
        types = [types] if isinstance(types, str) else list(types or [])
        if not types:
            return _ok
        # One dict lookup on the value's exact JSON type picks the check (bool is not an int).
        by_type: dict[type, Validator | None] = {}
        for kind in types:
            if kind == "string":
                by_type[str] = _string_check(schema)
            elif kind in ("number", "integer"):
                number = _number_check(schema)
                by_type[int] = number
                by_type[float] = number if kind == "number" else _integral(number)
                if prop in PERMISSION_FIELDS:
                    by_type[str] = _digits(number)
            elif kind == "boolean":
                by_type[bool] = None
            elif kind == "null":
                by_type[type(None)] = None
            elif kind == "array":
                by_type[list] = self._array_check(schema)
            elif kind == "object":
                by_type[dict] = self._object(schema)
            else:
                raise ValueError(f"unsupported JSON Schema type {kind!r}")
        return _typed(types[0], by_type)

    def _ref(self, name: str) -> Validator:
        if name == SNOWFLAKE_REF:
            return _snowflake
        if name not in self.refs:
            cell: list[Validator] = []
            self.refs[name] = lambda v: cell[0](v)  # cycles: bound once compiled
            schema = self.defs[name]
            if name in EXTRA_FIELDS:
                props = {**schema.get("properties", {}), **EXTRA_FIELDS[name]}
                schema = {**schema, "properties": props}
            cell.append(self.compile(schema))
            self.refs[name] = cell[0]
        return self.refs[name]

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.defs[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def _flatten(self, branches: list[Any]) -> list[Any]:
        out: list[Any] = []
        for b in branches:
            out += self._flatten(b["anyOf"]) if "anyOf" in b and len(b) == 1 else [b]
        return out

    def _any_of(self, branches: list[Any], prop: str | None) -> Validator:
        branches = self._flatten(branches)
        nullable = any(b == {"type": "null"} for b in branches)
        rest = [b for b in branches if b != {"type": "null"}]
        if len(rest) == 1:
            inner = self.compile(rest[0], prop=prop)
        elif (table := self._discriminated(rest)) is not None:
            inner = _dispatch({k: self.compile(s, prop=prop) for k, s in table.items()})
        else:
            inner = _first_match([self.compile(b, prop=prop) for b in rest])
        if not nullable:
            return inner
        by_type = getattr(inner, "by_type", None)
        if by_type is not None:  # fold the null into the type table: one lookup, no extra call
            return _typed(inner.first, {**by_type, type(None): None})  # type: ignore[attr-defined]
        return lambda v: None if v is None else inner(v)

    def _discriminated(self, branches: list[Any]) -> dict[Any, Any] | None:
        """Object branches told apart by a constant ``type`` (components, callbacks, options)."""
        table: dict[Any, Any] = {}
        for b in branches:
            kind = (self._resolve(b).get("properties") or {}).get("type") or {}
            values = kind.get("enum") or ([kind["const"]] if "const" in kind else None)
            if not values:
                return None
            for value in values:
                if value in table:
                    return None
                table[value] = b
        return table

    def _array_check(self, schema: dict[str, Any]) -> Validator:
        lo, hi = schema.get("minItems"), schema.get("maxItems")
        item = self.compile(schema.get("items", {}))

        def check(v: Any) -> Errors | None:
            if hi is not None and len(v) > hi:
                return _error("BASE_TYPE_MAX_LENGTH", f"Must be {hi} or fewer in length.")
            if lo is not None and len(v) < lo:
                return _error("BASE_TYPE_MIN_LENGTH", f"Must be {lo} or more in length.")
            if item is _ok:
                return None
            errors = {str(i): e for i, x in enumerate(v) if (e := item(x))}
            return errors or None

        return check

    def _object(self, schema: dict[str, Any]) -> Validator:
        props = {k: self.compile(s, prop=k) for k, s in (schema.get("properties") or {}).items()}
        required = tuple(schema.get("required") or ())
        extra = schema.get("additionalProperties")
        # zod writes no additionalProperties for z.object: the spec's objects are closed here.
        if extra is None:
            extra = "properties" not in schema
        extra_check = None if isinstance(extra, bool) else self.compile(extra)
        # Typed properties are checked inline (their type table), saving a call per field.
        inline = {k: (f.by_type, _TYPE_CODES[f.first]) for k, f in props.items()
                  if hasattr(f, "by_type")}

        def check(v: Any) -> Errors | None:
            errors: Errors = {}
            for key in required:
                if key not in v:
                    errors[key] = _error("BASE_TYPE_REQUIRED", "This field is required")
            for key, value in v.items():
                known = inline.get(key)
                if known is not None:
                    sub = known[0].get(type(value), _MISSING)
                    if sub is None:
                        continue
                    e = _error(*known[1]) if sub is _MISSING else sub(value)
                    if e:
                        errors[key] = e
                    continue
                sub = props.get(key)
                if sub is not None:
                    e = sub(value)
                elif extra_check is not None:
                    e = extra_check(value)
                elif extra is False:
                    e = _error("UNKNOWN_FIELD", "This field is not part of Discord's API.")
                else:
                    e = None
                if e:
                    errors[key] = e
            return errors or None

        return check


def _error(code: str, message: str) -> Errors:
    return {"_errors": [{"code": code, "message": message}]}


def _ok(value: Any) -> None:
    return None


_TYPE_CODES = {
    "string": ("BASE_TYPE_STRING", "Must be a string."),
    "number": ("NUMBER_TYPE_COERCE", "Must be a number."),
    "integer": ("NUMBER_TYPE_COERCE", "Must be an integer."),
    "boolean": ("BASE_TYPE_BOOLEAN", "Must be either true or false."),
    "object": ("MODEL_TYPE_CONVERT", "Must be an object."),
    "array": ("BASE_TYPE_ARRAY", "Must be an array."),
    "null": ("BASE_TYPE_INVALID", "Must be null."),
}


_MISSING: Any = object()


def _typed(first: str, by_type: dict[type, Validator | None]) -> Validator:
    code, message = _TYPE_CODES[first]

    def check(v: Any) -> Errors | None:
        sub = by_type.get(type(v), _MISSING)
        if sub is None:
            return None
        if sub is _MISSING:
            return _error(code, message)
        return sub(v)

    check.by_type = by_type  # type: ignore[attr-defined]
    check.first = first  # type: ignore[attr-defined]
    return check


def _integral(number: Validator | None) -> Validator:
    def check(v: float) -> Errors | None:
        if not v.is_integer():
            return _error("NUMBER_TYPE_COERCE", f'Value "{v}" is not int.')
        return number(v) if number else None

    return check


def _digits(number: Validator | None) -> Validator:
    """A permission bit set written as a string of digits (how Discord documents them)."""
    def check(v: str) -> Errors | None:
        if not v.isdigit():
            return _error("NUMBER_TYPE_COERCE", f'Value "{v}" is not int.')
        return number(int(v)) if number else None

    return check


def _string_check(schema: dict[str, Any]) -> Validator | None:
    lo, hi = schema.get("minLength"), schema.get("maxLength")
    fmt = schema.get("format")
    if fmt not in (None, "uri", "date-time"):
        raise ValueError(f"unsupported string format {fmt!r}")
    # zod's date-time pattern insists on "Z"; RFC 3339 (and Discord) accept offsets.
    pattern = None if fmt == "date-time" else schema.get("pattern")
    regex = re.compile(pattern) if pattern else None
    if lo is None and hi is None and regex is None and fmt is None:
        return None

    def check(v: str) -> Errors | None:
        if hi is not None and len(v) > hi:
            if lo:
                return _error("BASE_TYPE_BAD_LENGTH", f"Must be between {lo} and {hi} in length.")
            return _error("BASE_TYPE_MAX_LENGTH", f"Must be {hi} or fewer in length.")
        if lo is not None and len(v) < lo:
            if hi is not None:
                return _error("BASE_TYPE_BAD_LENGTH", f"Must be between {lo} and {hi} in length.")
            return _error("BASE_TYPE_MIN_LENGTH", f"Must be {lo} or more in length.")
        if regex is not None and not regex.search(v):
            return _error("STRING_TYPE_REGEX", f'String value did not match validation regex "{pattern}".')
        if fmt == "uri" and not _URI.match(v):
            return _error("URL_TYPE_INVALID_URL", "Not a well formed URL.")
        if fmt == "date-time" and not _is_datetime(v):
            return _error("DATE_TYPE_PARSE", "Could not parse the date-time value.")
        return None

    return check


_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")


def _is_datetime(value: str) -> bool:
    if "T" not in value:
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _number_check(schema: dict[str, Any]) -> Validator | None:
    lo, hi = schema.get("minimum"), schema.get("maximum")
    if lo is None and hi is None:
        return None

    def check(v: float) -> Errors | None:
        if hi is not None and v > hi:
            return _error("NUMBER_TYPE_MAX", f"int value should be less than or equal to {_num(hi)}.")
        if lo is not None and v < lo:
            return _error("NUMBER_TYPE_MIN", f"int value should be greater than or equal to {_num(lo)}.")
        return None

    return check


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _choices(values: list[Any]) -> Validator:
    allowed = [(v, type(v)) for v in values]
    shown = "(" + ", ".join(json.dumps(v) for v in values[:30]) + ")"

    def check(v: Any) -> Errors | None:
        # 1 == True in Python: compare types too (a JSON number is not a boolean).
        for a, kind in allowed:
            if v == a and (isinstance(v, bool) == (kind is bool)):
                return None
        return _error("BASE_TYPE_CHOICES", f"Value must be one of {shown}.")

    return check


def _dispatch(table: dict[Any, Validator]) -> Validator:
    shown = "(" + ", ".join(json.dumps(k) for k in table) + ")"

    def check(v: Any) -> Errors | None:
        if not isinstance(v, dict):
            return _error("MODEL_TYPE_CONVERT", "Must be an object.")
        kind = v.get("type")
        sub = table.get(kind) if not isinstance(kind, bool) else None
        if sub is None:
            return {"type": _error("BASE_TYPE_CHOICES", f"Value must be one of {shown}.")}
        return sub(v)

    return check


def _first_match(options: list[Validator]) -> Validator:
    def check(v: Any) -> Errors | None:
        first: Errors | None = None
        for option in options:
            e = option(v)
            if e is None:
                return None
            first = first or e
        return first

    return check


def _snowflake(v: Any) -> Errors | None:
    if isinstance(v, str) and v.isdigit() and (v == "0" or v[0] != "0"):
        return None
    if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**64:
        return None
    return _error("NUMBER_TYPE_COERCE", f"Value \"{v}\" is not snowflake.")


def env_disabled() -> bool:
    """``GEMS_SANDBOX_CONTRACT=off`` turns validation off (to measure its cost)."""
    return os.environ.get("GEMS_SANDBOX_CONTRACT", "").lower() in {"0", "off", "false", "no"}
