"""Which price is valid when: a charge's base price and its dated versions, cut into segments.

A price change inside a billing period splits that period: usage is split by
event timestamp, a fixed fee is prorated by day over each segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.billing_factory.domain.charges import Charge, PriceModel


@dataclass(frozen=True, slots=True)
class Segment:
    start: datetime
    end: datetime
    price: PriceModel


def price_segments(charge: Charge, start: datetime, end: datetime) -> list[Segment]:
    """Contiguous segments covering [start, end), each with the price valid in it."""
    if end <= start:
        return []
    if not charge.versions:
        return [Segment(start, end, charge.price)]
    out: list[Segment] = []
    cursor = start
    for version in charge.versions:
        v_start = version.valid_from if version.valid_from > cursor else cursor
        v_end = end if version.valid_until is None or version.valid_until > end else version.valid_until
        if v_end <= cursor:
            continue
        if v_start >= end:
            break
        if v_start > cursor:
            out.append(Segment(cursor, v_start, charge.price))
        out.append(Segment(v_start, v_end, version.price))
        cursor = v_end
    if cursor < end:
        out.append(Segment(cursor, end, charge.price))
    return out


def price_at(charge: Charge, t: datetime) -> PriceModel:
    """The price valid at instant t."""
    for version in charge.versions:
        if version.valid_from <= t and (version.valid_until is None or t < version.valid_until):
            return version.price
    return charge.price
