"""Card-payment currencies as Stripe defines them: minor units, parsing, formatting, minimums.

Every amount GEMS stores or sends to Stripe is an integer in the currency's *minor unit as the
Stripe API counts it* (docs.stripe.com/currencies, "Minor units in API amounts"). Checked against
that page (its copy as of the pinned API version 2026-10-28.endive):
- two-decimal unless listed otherwise: 12.50 USD is `1250`;
- zero-decimal: `500` is 500 JPY (ZERO_DECIMAL below);
- three-decimal (BHD JOD KWD OMR TND): `12500` is 12.500 KWD, and Stripe requires the last digit
  to be 0, so amounts are whole multiples of 10;
- special cases: ISK and UGX are zero-decimal money that the API still counts in hundredths for
  backwards compatibility ("to charge 5 ISK, provide 500"), so only whole units (multiples of
  100) can be charged. (The same page also lists UGX among the zero-decimal currencies; its
  special-case paragraph, which is the precise rule, wins here.)
Stripe's minimum charge (docs.stripe.com/currencies#minimum-and-maximum-charge-amounts) is per
settlement currency; GEMS only takes card payments in the currencies of that table, so the
minimum is always known. The amount may have at most 8 digits (the general technical maximum).
No floats anywhere: text is parsed digit by digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from economy.core.errors import InvalidInput

ZERO_DECIMAL = frozenset({"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf",
                          "vnd", "vuv", "xaf", "xof", "xpf"})
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})
#: Zero-decimal money the API counts in hundredths (whole units only).
WHOLE_HUNDREDTHS = frozenset({"isk", "ugx"})

#: Stripe's minimum charge per settlement currency, in the API's minor unit.
MINIMUM_CHARGE: dict[str, int] = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50,
    "czk": 1500, "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50,
    "jpy": 50, "mxn": 1000, "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200,
    "sek": 300, "sgd": 50, "thb": 1000,
}
#: Currencies a guild may take card payments in: those with a documented minimum charge.
CARD_CURRENCIES: tuple[str, ...] = tuple(MINIMUM_CHARGE)
#: "up to 8 digits for all other currencies" (IDR/INR and card-only exceptions are not offered).
MAX_AMOUNT_DIGITS = 8

#: Shown before the amount (other currencies are written `12.50 EUR`, as GEMS always did).
SYMBOLS = {"usd": "$"}
#: Accepted (and ignored) when an admin types a price.
TYPED_SYMBOLS = ("$", "€", "£", "¥")
_AMOUNT_RE = re.compile(r"^(\d{1,3}(?:[ ,]\d{3})+|\d+)(?:[.,](\d+))?$")


@dataclass(frozen=True)
class Currency:
    """How Stripe counts one currency."""

    code: str
    #: digits after the decimal point in the API's minor unit (0, 2 or 3)
    exponent: int
    #: amounts must be a multiple of this (10 for three-decimal, 100 for ISK/UGX)
    step: int = 1

    @property
    def minimum(self) -> int | None:
        """Stripe's minimum charge in minor units (None: not documented for this currency)."""
        return MINIMUM_CHARGE.get(self.code)

    @property
    def maximum(self) -> int:
        """The largest amount Stripe takes (8 digits)."""
        return 10 ** MAX_AMOUNT_DIGITS - 1


def currency(code: str) -> Currency:
    """The Stripe rules of an ISO currency code (any case)."""
    code = (code or "").strip().lower()
    if not re.fullmatch(r"[a-z]{3}", code):
        raise InvalidInput(f"`{code}` is not a currency code (like usd or jpy).")
    if code in ZERO_DECIMAL:
        return Currency(code, 0)
    if code in THREE_DECIMAL:
        return Currency(code, 3, step=10)
    if code in WHOLE_HUNDREDTHS:
        return Currency(code, 2, step=100)
    return Currency(code, 2)


def minor_per_major(code: str) -> int:
    """Minor units in one unit of the currency as the API counts them (1, 100 or 1000)."""
    return 10 ** currency(code).exponent


def format_amount(amount: int, code: str) -> str:
    """Minor units -> `$12.50`, `500 JPY`, `12.500 KWD`, `1,500 ISK` (always exact)."""
    cur = currency(code)
    sign, amount = ("-", -amount) if amount < 0 else ("", amount)
    scale = 10 ** cur.exponent
    whole, frac = divmod(amount, scale)
    shown_digits = 0 if cur.step == scale else cur.exponent  # ISK/UGX: whole units only
    text = f"{whole:,}" + (f".{frac:0{cur.exponent}d}" if shown_digits else "")
    symbol = SYMBOLS.get(cur.code)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {cur.code.upper()}"


def parse_amount(text: str, code: str) -> int:
    """`4.99`, `$1,000`, `500` (JPY), `12.5` (KWD) -> minor units; InvalidInput when the text
    has more decimals than the currency, is not a positive amount, or Stripe could not charge
    it exactly."""
    cur = currency(code)
    raw = (text or "").strip()
    cleaned = raw
    for symbol in TYPED_SYMBOLS:
        cleaned = cleaned.replace(symbol, "")
    cleaned = re.sub(rf"(?i)\b{cur.code}\b", "", cleaned).strip()
    example = format_amount(cur.minimum or 10 ** cur.exponent * 5, cur.code)
    match = _AMOUNT_RE.match(cleaned)
    if not match:
        raise InvalidInput(f"Write {cur.code.upper()} amounts like {example}.")
    whole = int(re.sub(r"[ ,]", "", match.group(1)))
    frac_text = match.group(2) or ""
    digits = 0 if cur.step == 10 ** cur.exponent else cur.exponent
    if len(frac_text) > digits:
        if digits == 0:
            raise InvalidInput(f"{cur.code.upper()} has no fractions: write a whole amount "
                               f"like {example}.")
        raise InvalidInput(f"{cur.code.upper()} amounts have at most {digits} decimals "
                           f"(like {example}).")
    amount = whole * 10 ** cur.exponent + int(frac_text.ljust(cur.exponent, "0") or 0)
    return check_amount(amount, cur.code)


def check_amount(amount: int, code: str) -> int:
    """Raise InvalidInput unless Stripe can charge `amount` minor units of `code`."""
    cur = currency(code)
    if amount <= 0:
        raise InvalidInput("The price must be more than 0.")
    if amount % cur.step:
        raise InvalidInput(f"Stripe charges {cur.code.upper()} only in steps of "
                           f"{format_amount(cur.step, cur.code)}.")
    if cur.minimum is not None and amount < cur.minimum:
        raise InvalidInput(f"Card payments must be at least {format_amount(cur.minimum, code)} "
                           "(Stripe's minimum charge).")
    if amount > cur.maximum:
        raise InvalidInput(f"Card payments can be at most {format_amount(cur.maximum, code)}.")
    return amount
