"""Revenue shares on invoices and credit notes: what partners get of a document's net, never printed on it.

Each line of an invoice may carry partners' shares of its net (signed like the
line). The invoice announces per partner the sum of its line shares. A credit
note takes back, per credited line, the same fraction of what is left of each
share as it credits of what is left of the line, with largest-remainder
rounding; crediting the rest of a line takes back the rest of its shares, so
partial credit notes followed by a cancellation take back exactly what the
invoice gave.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction

from libs.money import allocate_minor


def party_totals(shares: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Per partner id the sum of its (partner_id, amount) shares, sorted by id; partners summing to 0 are left out."""
    totals: dict[str, int] = {}
    for partner_id, amount in shares:
        totals[partner_id] = totals.get(partner_id, 0) + amount
    return {partner_id: totals[partner_id] for partner_id in sorted(totals) if totals[partner_id]}


def _split(total: int, parts: Sequence[int], indices: list[int], into: list[int]) -> None:
    weights = [abs(parts[i]) for i in indices]
    if indices:
        for i, amount in zip(indices, allocate_minor(total, weights)):
            into[i] = amount


def take_back(line_left: int, credit: int, shares_left: Sequence[int]) -> tuple[int, ...]:
    """The part of each share a credit of `credit` minor units takes back from a line with `line_left` still uncredited.

    `shares_left` is what is left of each share of the line. Crediting all that
    is left (credit == line_left) takes back all that is left of every share.
    Otherwise the line's parts (the shares and the platform's rest) are scaled
    by credit / line_left; the parts of each sign are allocated by largest
    remainder, so every take-back is within one minor unit of its exact value
    and never passes what is left of its share.
    """
    if credit == line_left:
        return tuple(shares_left)
    if line_left == 0 or credit == 0:
        raise ValueError("a credit takes back a non-zero part of a line that has something left")
    if (credit < 0) != (line_left < 0) or abs(credit) > abs(line_left):
        raise ValueError(f"a credit of {credit} is not part of what is left of the line ({line_left})")
    parts = [*shares_left, line_left - sum(shares_left)]  # the platform keeps the rest
    fraction = Fraction(credit, line_left)
    positive = [i for i, part in enumerate(parts) if part > 0]
    negative = [i for i, part in enumerate(parts) if part < 0]
    positive_total = round(sum(parts[i] for i in positive) * fraction)
    result = [0] * len(parts)
    _split(positive_total, parts, positive, result)
    _split(credit - positive_total, parts, negative, result)
    return tuple(result[:-1])
