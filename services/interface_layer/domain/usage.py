"""Usage event rules at the edge: what an acceptable event is, and its payload fingerprint.

The fingerprint makes duplicates decidable downstream: the same event id with
the same fingerprint is a harmless repeat, with another fingerprint a conflict.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

MAX_PROPERTIES = 50
MAX_QUANTITY = Decimal("1e15")


@dataclass(frozen=True)
class UsageProblem:
    index: int
    field: str
    message: str


def fingerprint(customer: str, metric: str, timestamp: datetime, properties: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON `[customer, metric, timestamp, properties]` (sorted keys, no spaces, ASCII).

    orjson writes the same bytes as the stdlib for ASCII text (but DEL) without floats and is several times faster (the
    timestamp too, written by orjson from the datetime where its offset is whole minutes), so it is
    tried first; anything else (non-ASCII, floats, integers beyond 64 bits) takes the stdlib, whose output defines
    the fingerprint. Stored fingerprints thus stay comparable whichever path computed them.
    """
    if float not in map(type, properties.values()):
        offset = timestamp.utcoffset()
        # orjson writes an aware datetime as isoformat() does, three times faster, but cuts an offset's seconds off
        when = timestamp if offset is not None and not (offset.seconds % 60 or offset.microseconds) else timestamp.isoformat()
        try:
            fast = orjson.dumps([customer, metric, when, properties], option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            fast = b""
        if fast and fast.isascii() and b"\x7f" not in fast:  # the stdlib escapes DEL, orjson does not
            return hashlib.sha256(fast).hexdigest()
    return canonical_fingerprint(customer, metric, timestamp, properties)


def canonical_fingerprint(customer: str, metric: str, timestamp: datetime, properties: dict[str, Any]) -> str:
    canonical = json.dumps([customer, metric, timestamp.isoformat(), properties], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_event(index: int, timestamp: datetime, properties: dict[str, Any], now: datetime, future_tolerance: timedelta, max_age: timedelta) -> list[UsageProblem]:
    problems = []
    if timestamp.tzinfo is None:
        problems.append(UsageProblem(index, "timestamp", "timestamp needs a time zone (e.g. Z)"))
        return problems
    if timestamp > now + future_tolerance:
        problems.append(UsageProblem(index, "timestamp", f"timestamp is more than {int(future_tolerance.total_seconds())} s in the future"))
    if timestamp < now - max_age:
        problems.append(UsageProblem(index, "timestamp", f"timestamp is older than {max_age.days} days"))
    if len(properties) > MAX_PROPERTIES:
        problems.append(UsageProblem(index, "properties", f"at most {MAX_PROPERTIES} properties"))
    for name, value in properties.items():
        problem = _check_value(value)
        if problem:
            problems.append(UsageProblem(index, f"properties.{name}", problem))
    return problems


def _check_value(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return "NaN and infinity are not quantities"
        value = Decimal(str(value))
    if isinstance(value, (int, Decimal)):
        value = Decimal(value)
    elif isinstance(value, str):
        if len(value) > 500:
            return "string values are limited to 500 characters"
        try:
            value = Decimal(value)  # a number sent as text ("0.5") is a quantity like any other: the same checks
        except InvalidOperation:
            return None  # a label
        if not value.is_finite():
            return "NaN and infinity are not quantities"
    else:
        return "values must be numbers, strings or booleans"
    if value < 0:
        return "negative quantities are not allowed"
    if value > MAX_QUANTITY:
        return "quantity is absurdly large"
    return None
