"""Marketplace records, limits and input validation (pure: no storage, no Discord).

Every limit a member can run into is a named constant here, so the messages, the modal lengths
and the tests agree.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from economy.core.clock import from_ms, to_ms
from economy.core.errors import InvalidAmount, InvalidInput
from economy.core.ledger import check_amount
from economy.core.text import strip_invisible, visible_length
from economy.payments.currencies import format_amount

TITLE_MIN, TITLE_MAX = 3, 100
DESCRIPTION_MIN, DESCRIPTION_MAX = 1, 2000
SPECS_MAX_CHARS, SPECS_MAX_LINES, SPEC_KEY_MAX, SPEC_VALUE_MAX = 1000, 15, 40, 200
TAGS_MAX, TAG_MAX_LEN = 10, 24
MAX_IMAGES = 10
MAX_USD_CENTS = 100_000_000  # $1,000,000
KEYWORDS_MAX = 64
ALERTS_PER_MEMBER = 10
DRAFT_TTL_SECONDS = 24 * 3600
REMIND_BEFORE_SECONDS = 2 * 24 * 3600
PRICE_HINT_MIN_SALES = 5

Status = Literal["draft", "pending", "active", "rejected", "withdrawn", "expired", "reserved", "sold"]
CONDITIONS: dict[str, str] = {"new": "New", "like_new": "Like new", "good": "Good", "fair": "Fair"}
# "Similar condition" for the price hint: the neighbours on the new -> fair scale.
SIMILAR_CONDITIONS: dict[str, tuple[str, ...]] = {
    "new": ("new", "like_new"), "like_new": ("new", "like_new", "good"),
    "good": ("like_new", "good", "fair"), "fair": ("good", "fair"),
}
SORTS: dict[str, str] = {
    "newest": "Newest", "price_asc": "Price: low to high", "price_desc": "Price: high to low",
    "popular": "Most popular",
}
CATEGORY_RE = re.compile(r"^[a-z0-9][a-z0-9 -]{0,30}$")
_TAG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_TOKEN_RE = re.compile(r"[a-z0-9]+")
_USD_RE = re.compile(r"^\$?\s*(\d{1,9})(?:[.,](\d{1,2}))?\s*(?:usd)?$", re.IGNORECASE)


@cache
def default_categories() -> tuple[str, ...]:
    """The shipped category set (`data/categories.json`), used when a guild sets none."""
    path = Path(__file__).resolve().parents[2] / "data" / "categories.json"
    return tuple(json.loads(path.read_text(encoding="utf-8"))["default_categories"])


class ImageRef(BaseModel):
    """A stored image of a listing (bytes live in the `listing_images` collection)."""

    model_config = ConfigDict(frozen=True)

    image_id: str
    width: int
    height: int


class Listing(BaseModel):
    """One listing as the services return it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    guild_id: int
    listing_id: int
    seller_id: int
    title: str
    description: str
    category: str
    condition: str
    tags: tuple[str, ...] = ()
    specs: tuple[tuple[str, str], ...] = ()
    price_gems: int | None = None
    price_usd_cents: int | None = None
    status: Status
    buyer_id: int | None = None
    images: tuple[ImageRef, ...] = ()
    created_at: datetime
    listed_at: datetime | None = None
    sold_at: datetime | None = None
    expires_at: datetime | None = None
    updated_at: datetime
    views: int = 0
    wishlist_count: int = 0
    rejected_reason: str | None = None
    version: int = 0
    #: The collectible it sells ("c3#17", a badge edition; economy/badges/collectibles.py).
    collectible: str | None = None
    #: A listing boost (a shop consumable, economy/marketplace/boost.py): the listing sorts
    #: first in browse and search until `boosted_until_ms`; `boosted_at_ms` orders the boosted
    #: ones (most recently boosted first). Epoch ms; compared with now, so no job ends a boost.
    boosted_until_ms: int | None = None
    boosted_at_ms: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _dates_from_epoch_ms(cls, data: object) -> object:
        # Listing dates are stored as epoch-ms integers only (`created_ts`, `listed_ts`, ...):
        # a datetime written by `$set` is a date on MongoDB but text on the embedded store.
        if isinstance(data, dict):
            data = dict(data)
            for name in DATE_FIELDS:
                stamp = data.get(f"{name}_ts")
                if isinstance(stamp, int):
                    data[f"{name}_at"] = from_epoch_ms(stamp)
        return data

    @field_validator("created_at", "listed_at", "sold_at", "expires_at", "updated_at",
                     mode="before")
    @classmethod
    def _aware(cls, value: object) -> object:
        return as_utc(value)

    @field_validator("tags", "specs", mode="before")
    @classmethod
    def _tuples(cls, value: object) -> object:
        return () if value is None else value

    def boost_end(self, now: datetime) -> datetime | None:
        """When the listing's boost ends, while one runs at `now` (None: not boosted)."""
        if self.boosted_until_ms is None or self.boosted_until_ms <= to_ms(now):
            return None
        return from_ms(self.boosted_until_ms)

    @property
    def is_open(self) -> bool:
        """Visible to everyone (active, reserved or sold)."""
        return self.status in ("active", "reserved", "sold")


#: Listing dates, each stored as `<name>_ts` (epoch milliseconds) and read as `<name>_at`.
DATE_FIELDS = ("created", "listed", "sold", "expires", "updated")


def from_epoch_ms(stamp: int) -> datetime:
    """Epoch milliseconds as an aware UTC datetime."""
    return from_ms(stamp)


def as_utc(value: object) -> object:
    """Datetimes come back aware; strings (nx-27017 stores `$set` datetimes as text) parsed."""
    if isinstance(value, str) and value:
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class ListingQuery(BaseModel):
    """A browse/search query; small enough to travel inside a button's custom id."""

    model_config = ConfigDict(frozen=True)

    keywords: tuple[str, ...] = Field((), max_length=8)
    category: str | None = None
    condition: str | None = None
    currency: Literal["gems", "usd"] = "gems"
    # Bounded: a query comes back from a custom id, which a client can forge.
    price_min: int | None = Field(None, ge=0, le=10**13)
    price_max: int | None = Field(None, ge=0, le=10**13)
    seller_id: int | None = Field(None, ge=0, le=2**63 - 1)
    tags: tuple[str, ...] = Field((), max_length=5)
    sort: Literal["newest", "price_asc", "price_desc", "popular"] = "newest"

    def compact(self) -> str:
        """The query as short JSON (defaults left out) for custom ids and saved queries."""
        return json.dumps(self.model_dump(exclude_defaults=True, mode="json"),
                          separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_compact(cls, text: str) -> ListingQuery:
        """Inverse of `compact`."""
        return cls.model_validate(json.loads(text))


class Notice(BaseModel):
    """A direct message the Discord layer should deliver (the service decides who and why).

    kind: approved | rejected | expired | expiring | wish_expiring | price_drop | alert
    """

    model_config = ConfigDict(frozen=True)

    user_id: int
    kind: str
    listing: Listing
    detail: str | None = None
    #: Further listings of the same notice (an alert digest lists every match).
    more: tuple[Listing, ...] = ()


@dataclass(frozen=True)
class PublishResult:
    """A listing that went live or into the queue, and who should hear about it."""

    listing: Listing
    needs_approval: bool
    notices: list[Notice] = field(default_factory=list)


class PriceHint(BaseModel):
    """Sold prices of comparable listings."""

    model_config = ConfigDict(frozen=True)

    sales: int
    median: int
    low: int
    high: int


class SearchPage(BaseModel):
    """One page of results; `total` is capped (`total_capped` True means "at least")."""

    model_config = ConfigDict(frozen=True)

    rows: tuple[Listing, ...]
    page: int
    page_size: int
    total: int
    total_capped: bool = False
    #: How the search found the rows (reported by bench/marketplace_bench.py).
    plan: str = ""

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, -(-self.total // self.page_size))


class Alert(BaseModel):
    """A saved search that DMs its owner when a matching listing is published."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    alert_id: int
    user_id: int
    keywords: tuple[str, ...] = ()
    category: str | None = None
    max_price_gems: int | None = None


# --- validation -------------------------------------------------------------------------------
def clean_line(text: str | None) -> str:
    """One line of user text: control characters removed, whitespace collapsed."""
    text = strip_invisible((text or "").replace("\n", " "))
    return " ".join(text.split()) if visible_length(text) else ""


def clean_block(text: str | None) -> str:
    """Multi-line user text: control characters (except newlines) removed, blank runs trimmed."""
    lines = []
    for raw in (text or "").replace("\r\n", "\n").split("\n"):
        lines.append(" ".join(clean_line(raw).split()))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def check_title(title: str | None) -> str:
    """A title of TITLE_MIN..TITLE_MAX characters."""
    title = clean_line(title)
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        raise InvalidInput(f"The title must be {TITLE_MIN}-{TITLE_MAX} characters "
                           f"(it has {len(title)}).")
    return title


def check_description(text: str | None) -> str:
    """A description of DESCRIPTION_MIN..DESCRIPTION_MAX characters."""
    text = clean_block(text)
    if not DESCRIPTION_MIN <= len(text) <= DESCRIPTION_MAX:
        raise InvalidInput(f"The description must be {DESCRIPTION_MIN}-{DESCRIPTION_MAX} "
                           f"characters (it has {len(text)}).")
    return text


def parse_specs(text: str | None) -> tuple[tuple[str, str], ...]:
    """`key: value` lines -> pairs. Raises InvalidInput naming the first bad line."""
    text = (text or "").strip()
    if len(text) > SPECS_MAX_CHARS:
        raise InvalidInput(f"Specifications can be at most {SPECS_MAX_CHARS} characters.")
    pairs = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = clean_line(raw)
        if not line:
            continue
        key, sep, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise InvalidInput(f"Specification line {number} should look like `key: value`.")
        if len(key) > SPEC_KEY_MAX or len(value) > SPEC_VALUE_MAX:
            raise InvalidInput(f"Specification line {number} is too long (key up to "
                               f"{SPEC_KEY_MAX}, value up to {SPEC_VALUE_MAX} characters).")
        pairs.append((key, value))
    if len(pairs) > SPECS_MAX_LINES:
        raise InvalidInput(f"At most {SPECS_MAX_LINES} specification lines, please.")
    return tuple(pairs)


def parse_tags(text: str | None) -> tuple[str, ...]:
    """Comma/space separated tags -> lowercase unique tags (letters, digits, dashes)."""
    tags: list[str] = []
    for raw in re.split(r"[,\s]+", (text or "").lower()):
        tag = raw.strip().lstrip("#")
        if not tag:
            continue
        if len(tag) > TAG_MAX_LEN or not _TAG_RE.match(tag):
            raise InvalidInput(f"Tags use letters, digits and dashes, up to {TAG_MAX_LEN} "
                               "characters each.")
        if tag not in tags:
            tags.append(tag)
    if len(tags) > TAGS_MAX:
        raise InvalidInput(f"At most {TAGS_MAX} tags, please.")
    return tuple(tags)


def check_price_gems(value: object) -> int | None:
    """None, or a whole number of GEMS in 1..MAX_AMOUNT."""
    return None if value is None else check_amount(value, what="GEMS price")


def parse_usd(text: str | None) -> int | None:
    """"12.50", "$12", "12,5" -> integer cents (no floats anywhere). None when blank."""
    text = (text or "").strip()
    if not text:
        return None
    match = _USD_RE.match(text)
    if not match:
        raise InvalidAmount("Write USD prices like 12.50 (dollars and cents).")
    cents_text = (match.group(2) or "0").ljust(2, "0")
    cents = int(match.group(1)) * 100 + int(cents_text)
    if cents <= 0:
        raise InvalidAmount("The USD price must be more than 0.00.")
    if cents > MAX_USD_CENTS:
        raise InvalidAmount(f"The USD price can be at most {MAX_USD_CENTS // 100:,}.00.")
    return cents


def normalize_token(token: str) -> str:
    """A search token: lowercase ASCII-ish, naive singular ("rings" -> "ring")."""
    token = unicodedata.normalize("NFKD", token).encode("ascii", "ignore").decode().lower()
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        token = token[:-1]
    return token


def tokens(text: str) -> list[str]:
    """Normalized search tokens of a text (order kept, duplicates removed)."""
    seen: list[str] = []
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    for raw in _TOKEN_RE.findall(folded):
        token = normalize_token(raw)
        if len(token) >= 2 and token not in seen:
            seen.append(token)
    return seen


def listing_keywords(title: str, tags: tuple[str, ...], category: str,
                     specs: tuple[tuple[str, str], ...], description: str) -> list[str]:
    """The keyword index of a listing: title, tags, category and spec values first."""
    parts = [title, " ".join(tags), category, " ".join(v for _, v in specs), description]
    return tokens(" ".join(parts))[:KEYWORDS_MAX]


def format_usd(cents: int) -> str:
    """Integer cents -> `$12.50`."""
    return format_amount(cents, "usd")


def format_cents(cents: int, currency: str) -> str:
    """An amount in `currency`'s minor unit as Stripe counts it -> `$12.50`, `500 JPY`,
    `12.500 KWD` (economy/payments/currencies.py owns the rules)."""
    return format_amount(cents, currency)
