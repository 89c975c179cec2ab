"""Numbers, amounts and dates as a German or English reader expects them: 1.053,11 € or €1,053.11.

Exact throughout: Decimals are formatted, never converted to float.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from libs.money import Money

_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


def number(value: Decimal, language: str, places: int | None = None) -> str:
    """Grouped digits; `places` fixed decimals, or as many as the value needs."""
    if places is None:
        normalized = value.normalize()
        places = max(0, -normalized.as_tuple().exponent)
    text = f"{value:,.{places}f}"
    if language == "de":
        return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def _with_symbol(text: str, currency: str, language: str) -> str:
    symbol = _SYMBOLS.get(currency, currency)
    if language == "de":
        return f"{text}\u00a0{symbol}"
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    return f"{sign}{symbol}{digits}" if len(symbol) == 1 else f"{sign}{symbol}\u00a0{digits}"


def money(amount: Money, language: str) -> str:
    places = max(2, -amount.amount.as_tuple().exponent)
    return _with_symbol(number(amount.amount, language, places), amount.currency, language)


def unit_price(price: Decimal, currency: str, language: str) -> str:
    """At least two decimals, more where the price has them (0,0015 €)."""
    places = max(2, -price.normalize().as_tuple().exponent)
    return _with_symbol(number(price, language, places), currency, language)


def day(value: date, language: str) -> str:
    return value.strftime("%d.%m.%Y") if language == "de" else value.strftime("%d %b %Y")


def rate(value: Decimal, language: str) -> str:
    return number(value, language)


def iban(value: str) -> str:
    compact = value.replace(" ", "")
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


def masked_iban(value: str) -> str:
    compact = value.replace(" ", "")
    return iban(compact[:4] + "*" * (len(compact) - 8) + compact[-4:])
