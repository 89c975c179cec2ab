"""Revenue-sharing rules and partners, and the checks that refuse a rule set before it is stored.

A rule carves part of a line's net amount out of a *source* (the platform's
remainder, or a partner's share when rules stack along a reseller chain) and
gives it to a partner. `validate_rules` refuses what could never be honoured:
percentages above 100 % of what they split, sources that are not above the
partner in its chain, rules outside the partner's contracts. `split_lines`
(in `sharing.py`) still caps everything by what a source holds, so even an
unvalidated rule set cannot break the invariant that shares sum to the net.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from itertools import product
from typing import Mapping, Sequence


class RuleKind(str, Enum):
    PERCENT = "percent"
    COMMISSION = "commission"
    FIXED_PER_TRANSACTION = "fixed_per_transaction"
    FIXED_PER_PERIOD = "fixed_per_period"
    PER_UNIT = "per_unit"
    CLEARING = "clearing"


PERCENT_KINDS = frozenset({RuleKind.PERCENT, RuleKind.COMMISSION, RuleKind.CLEARING})
AMOUNT_KINDS = frozenset({RuleKind.FIXED_PER_TRANSACTION, RuleKind.FIXED_PER_PERIOD, RuleKind.PER_UNIT})
HUNDRED = Decimal(100)


class SharingError(ValueError):
    """A rule set, partner chain or line that revenue sharing refuses; `field` is the path to the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Contract:
    """A partner's contract: valid from `valid_from` (inclusive) to `valid_to` (exclusive, None = open)."""

    valid_from: date
    valid_to: date | None = None

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True)
class Partner:
    id: str
    code: str
    role: str
    parent_id: str | None = None  # the reseller above it
    contracts: tuple[Contract, ...] = ()

    def has_contract_on(self, day: date) -> bool:
        return any(c.covers(day) for c in self.contracts)


@dataclass(frozen=True)
class ShareRule:
    id: str
    partner_id: str
    kind: RuleKind
    order: int = 0  # lower order evaluated first; ties by id
    percent: Decimal | None = None  # PERCENT, COMMISSION, CLEARING (pool percent, default 100)
    amount: Decimal | None = None  # FIXED_PER_TRANSACTION / FIXED_PER_PERIOD / PER_UNIT, major units
    source_id: str | None = None  # None = carved from the platform's remainder; else from that partner's share
    of_source: bool = False  # percent of the source's share instead of the line net
    plan_codes: frozenset[str] = frozenset()  # empty = all
    charge_codes: frozenset[str] = frozenset()
    metric_codes: frozenset[str] = frozenset()
    resold_only: bool = False  # only for customers sold by this partner or a reseller below it
    min_minor: int | None = None  # per rule per subscription period, over the lines it applies to
    max_minor: int | None = None
    valid_from: date | None = None  # inclusive
    valid_to: date | None = None  # exclusive

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day < self.valid_to)

    @property
    def pool_percent(self) -> Decimal:
        """The percentage it splits; a clearing rule without one clears the whole base."""
        if self.percent is None:
            return HUNDRED if self.kind is RuleKind.CLEARING else Decimal(0)
        return self.percent


def ancestors(partners: Mapping[str, Partner], partner_id: str) -> list[str]:
    """The resellers above a partner, nearest first. A loop in the chain is refused."""
    chain: list[str] = []
    current = partners[partner_id].parent_id if partner_id in partners else None
    while current is not None:
        if current == partner_id or current in chain:
            raise SharingError("parent_id", f"the reseller chain above {partner_id} loops through {current}")
        chain.append(current)
        parent = partners.get(current)
        current = parent.parent_id if parent is not None else None
    return chain


def sold_below(partners: Mapping[str, Partner], reseller_id: str | None, partner_id: str) -> bool:
    """Whether a customer sold by `reseller_id` was sold by `partner_id` or a reseller below it."""
    if reseller_id is None:
        return False
    return reseller_id == partner_id or partner_id in ancestors(partners, reseller_id)


def validate_chain(partners: Mapping[str, Partner], partner_id: str, parent_id: str | None) -> None:
    """Refuse giving `partner_id` the parent `parent_id` if it is unknown, itself, or would close a loop."""
    if parent_id is None:
        return
    if parent_id == partner_id:
        raise SharingError("parent_id", "a partner cannot be its own reseller")
    if parent_id not in partners:
        raise SharingError("parent_id", f"unknown partner {parent_id}")
    if partner_id in [parent_id, *ancestors(partners, parent_id)]:
        raise SharingError("parent_id", f"{parent_id} is already below {partner_id}: the chain would loop")


def validate_rules(rules: Sequence[ShareRule], partners: Mapping[str, Partner]) -> None:
    """Refuse a rule set that names unknown partners, breaks a field's range, or splits more than 100 %."""
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        if rule.id in seen:
            raise SharingError(f"rules[{i}].id", f"rule id {rule.id} is used twice")
        seen.add(rule.id)
        _check_rule(rule, partners, f"rules[{i}]")
    _check_percent_sums(rules, partners)


def _check_rule(rule: ShareRule, partners: Mapping[str, Partner], at: str) -> None:
    partner = partners.get(rule.partner_id)
    if partner is None:
        raise SharingError(f"{at}.partner_id", f"unknown partner {rule.partner_id}")
    if rule.kind in PERCENT_KINDS:
        if rule.percent is None and rule.kind is not RuleKind.CLEARING:
            raise SharingError(f"{at}.percent", f"a {rule.kind.value} rule needs a percent")
        if not Decimal(0) <= rule.pool_percent <= HUNDRED:
            raise SharingError(f"{at}.percent", "must be between 0 and 100")
        if rule.amount is not None:
            raise SharingError(f"{at}.amount", f"a {rule.kind.value} rule takes a percent, not an amount")
    else:
        if rule.amount is None:
            raise SharingError(f"{at}.amount", f"a {rule.kind.value} rule needs an amount")
        if rule.amount < 0:
            raise SharingError(f"{at}.amount", "must not be negative")
        if rule.percent is not None:
            raise SharingError(f"{at}.percent", f"a {rule.kind.value} rule takes an amount, not a percent")
    for name in ("min_minor", "max_minor"):
        if (getattr(rule, name) or 0) < 0:
            raise SharingError(f"{at}.{name}", "must not be negative")
    if rule.min_minor is not None and rule.max_minor is not None and rule.min_minor > rule.max_minor:
        raise SharingError(f"{at}.max_minor", "must not be below min_minor")
    if rule.valid_from is not None and rule.valid_to is not None and rule.valid_to <= rule.valid_from:
        raise SharingError(f"{at}.valid_to", "must be after valid_from")
    above = ancestors(partners, rule.partner_id)
    if rule.source_id is not None:
        if rule.source_id not in partners:
            raise SharingError(f"{at}.source_id", f"unknown partner {rule.source_id}")
        if rule.source_id == rule.partner_id:
            raise SharingError(f"{at}.source_id", "a partner cannot share out of its own share to itself")
        if rule.source_id not in above:
            raise SharingError(f"{at}.source_id", f"{rule.source_id} is not a reseller above {rule.partner_id}")
    _check_inside_contract(rule, partner, at)


def _check_inside_contract(rule: ShareRule, partner: Partner, at: str) -> None:
    """A rule's dates must lie inside one contract; an open bound takes the contract's own."""
    def inside(c: Contract) -> bool:
        start_ok = rule.valid_from is None or c.covers(rule.valid_from)
        end_ok = rule.valid_to is None or (c.valid_from < rule.valid_to and (c.valid_to is None or rule.valid_to <= c.valid_to))
        return start_ok and end_ok

    if not partner.contracts:
        raise SharingError(f"{at}.valid_from", f"partner {partner.code} has no contract")
    if not any(inside(c) for c in partner.contracts):
        field = "valid_from" if not any(rule.valid_from is None or c.covers(rule.valid_from) for c in partner.contracts) else "valid_to"
        raise SharingError(f"{at}.{field}", f"the rule's validity is not inside a contract of partner {partner.code}")


_OTHER = object()  # a plan, charge or metric no rule names


def _check_percent_sums(rules: Sequence[ShareRule], partners: Mapping[str, Partner]) -> None:
    """Per source and per way of counting (of the net, of the source's share), the percentages that can
    apply to one line at the same time must not exceed 100.

    Rules apply together when their dates, scopes and reseller conditions all overlap. The largest
    such set is found among a few situations: each rule's start date, each named code or one no
    rule names, and each resold-only partner as the seller.
    """
    groups: dict[tuple[str | None, bool], list[int]] = {}
    for i, rule in enumerate(rules):
        if rule.kind in PERCENT_KINDS:
            groups.setdefault((rule.source_id, rule.of_source), []).append(i)
    for (source_id, of_source), members in groups.items():
        if sum(rules[i].pool_percent for i in members) <= HUNDRED:
            continue
        for day in sorted({rules[i].valid_from or date.min for i in members}):
            active = [i for i in members if rules[i].valid_on(day)]
            for situation in _situations([rules[i] for i in active]):
                together = [i for i in active if _applies_in(rules[i], situation, partners)]
                total = sum((rules[i].pool_percent for i in together), Decimal(0))
                if total > HUNDRED:
                    last = max(together, key=lambda i: (rules[i].order, rules[i].id))
                    what = "of the net" if not of_source else "of the share"
                    whose = "the platform" if source_id is None else f"partner {source_id}"
                    raise SharingError(f"rules[{last}].percent", f"rules carving from {whose} take {total}% {what}, more than 100%")


def _situations(rules: list[ShareRule]):
    plans = [_OTHER, *sorted({c for r in rules for c in r.plan_codes})]
    charges = [_OTHER, *sorted({c for r in rules for c in r.charge_codes})]
    metrics = [_OTHER, *sorted({c for r in rules for c in r.metric_codes})]
    sellers = [None, *sorted({r.partner_id for r in rules if r.resold_only})]
    return product(plans, charges, metrics, sellers)


def _applies_in(rule: ShareRule, situation, partners: Mapping[str, Partner]) -> bool:
    plan, charge, metric, seller = situation
    return (
        (not rule.plan_codes or plan in rule.plan_codes)
        and (not rule.charge_codes or charge in rule.charge_codes)
        and (not rule.metric_codes or metric in rule.metric_codes)
        and (not rule.resold_only or sold_below(partners, seller, rule.partner_id))
    )
