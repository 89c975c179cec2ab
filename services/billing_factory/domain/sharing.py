"""Revenue sharing: split each rated line's net amount among partners; the platform keeps the rest.

Rules run one after another (by `order`, then id) across all lines of a
subscription period, so a rule sees what earlier rules left: a rule carves
from its source (the platform's remainder or a partner's share) and never
takes more than the source holds on that line. That makes the invariant hold
by construction: per line the shares sum to between zero and the net, and
`platform_share` is what is left.

Choices the API leaves open:
- Negative lines (discounts, credits, caps) are split like a positive line
  of the same size with every share negated: percentage rules apply, fixed
  and per-unit rules do not. So a full credit reverses the shares exactly,
  whatever the rounding mode.
- CLEARING: the rule's `partner_id` is the clearing house holding the
  agreement: the rule applies only while it has a contract (and, with
  `resold_only`, relative to it); it receives nothing itself unless its code
  is also named in the line's keys. The pool goes to the operators named in
  `line.clearing`, one Share each, in order of their code. A line without
  keys (or with all keys zero) is not cleared.
- When a partner's share is a source for a rule below it, that partner's
  Share is what it keeps after passing the part on (proportionally across
  its rules on the line), and its basis says so.
- A minimum or maximum adjusts the positive lines only (in proportion to the
  rule's amounts on them, or to their net when those are all zero), within
  what the source holds on each. Shares of zero are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Mapping, Sequence

from libs.money import Rounding, UnknownCurrency, allocate_minor, minor_unit_exponent
from services.billing_factory.domain.lines import fmt
from services.billing_factory.domain.sharing_rules import (
    AMOUNT_KINDS, HUNDRED, PERCENT_KINDS, Contract, Partner, RuleKind, ShareRule, SharingError, ancestors, sold_below,
    validate_chain, validate_rules,
)

__all__ = [
    "Contract", "Partner", "RuleKind", "Share", "ShareRule", "SharingError", "SplitContext", "SplitLine", "ancestors",
    "platform_share", "split_lines", "validate_chain", "validate_rules",
]


@dataclass(frozen=True)
class SplitLine:
    charge_code: str
    kind: str
    net_minor: int
    quantity: Decimal
    metric_code: str | None = None
    plan_code: str = ""
    transactions: int = 0  # usage events behind the line
    clearing: Mapping[str, Decimal] | None = None  # partner code -> key value (e.g. km per operator)


@dataclass(frozen=True)
class SplitContext:
    currency: str
    period_start: date
    period_end: date
    reseller_id: str | None = None  # the partner that sold the customer, if any


@dataclass(frozen=True)
class Share:
    partner_id: str
    rule_id: str
    amount_minor: int
    role: str
    basis: str  # for reports, e.g. "20% of 10.00"


def platform_share(line: SplitLine, shares: Sequence[Share]) -> int:
    """What the platform keeps of a line: its net less the partners' shares."""
    return line.net_minor - sum(s.amount_minor for s in shares)


def split_lines(lines: Sequence[SplitLine], rules: Sequence[ShareRule], partners: Mapping[str, Partner], ctx: SplitContext,
                rounding=ROUND_HALF_UP) -> list[list[Share]]:
    """The partners' shares of each line (same order as `lines`), from the rules valid on the period's start."""
    money = _Money.of(ctx.currency, rounding)
    states = [_LineState(line) for line in lines]
    by_code = {p.code: p for p in partners.values()}
    for i, rule in sorted(enumerate(rules), key=lambda item: (item[1].order, item[1].id)):
        at = f"rules[{i}]"
        partner = _runnable(rule, partners, at)
        if not (rule.valid_on(ctx.period_start) and partner.has_contract_on(ctx.period_start)):
            continue
        if rule.resold_only and not sold_below(partners, ctx.reseller_id, rule.partner_id):
            continue
        targets = [s for s in states if _in_scope(rule, s.line)]
        if rule.kind is RuleKind.CLEARING:
            targets = [s for s in targets if _clearing_keys(s.line, by_code, ctx.period_start)]
        if not targets:
            continue
        amounts = _raw_amounts(rule, targets, money)
        for state, (amount, basis) in zip(targets, _bounded(rule, targets, amounts, money)):
            if amount:
                state.carve(rule, partner, amount, basis, by_code, money)
    return [state.shares() for state in states]


@dataclass(frozen=True)
class _Money:
    exponent: int
    mode: str

    @classmethod
    def of(cls, currency: str, rounding) -> _Money:
        try:
            exponent = minor_unit_exponent(currency)
        except UnknownCurrency:
            raise SharingError("currency", f"unknown currency {currency!r}") from None
        return cls(exponent, rounding.decimal_mode if isinstance(rounding, Rounding) else rounding)

    def round(self, minor: Decimal) -> int:
        return int(minor.quantize(Decimal(1), rounding=self.mode))

    def minor(self, major: Decimal) -> Decimal:
        return major.scaleb(self.exponent)

    def major(self, amount: Decimal) -> str:
        """A major-unit price as people write it: at least the currency's decimals, more only when it has them."""
        return f"{amount:.{self.exponent}f}" if amount.normalize().as_tuple().exponent >= -self.exponent else fmt(amount)

    def text(self, minor: int) -> str:
        return f"{Decimal(minor).scaleb(-self.exponent):.{self.exponent}f}"


@dataclass
class _Part:
    partner_id: str
    rule_id: str
    role: str
    amount: int  # magnitude; the line's sign is applied when the Share is made
    basis: str


@dataclass
class _LineState:
    line: SplitLine
    parts: list[_Part] = field(default_factory=list)

    @property
    def sign(self) -> int:
        return -1 if self.line.net_minor < 0 else 1

    def holding(self, source_id: str | None) -> int:
        if source_id is None:
            return abs(self.line.net_minor) - sum(p.amount for p in self.parts)
        return sum(p.amount for p in self.parts if p.partner_id == source_id)

    def carve(self, rule: ShareRule, partner: Partner, amount: int, basis: str, by_code: Mapping[str, Partner], money: _Money) -> None:
        if rule.source_id is not None:
            given = [p for p in self.parts if p.partner_id == rule.source_id and p.amount]
            for part, less in zip(given, allocate_minor(amount, [p.amount for p in given])):
                if less:
                    part.amount -= less
                    part.basis += f"; {money.text(self.sign * less)} passed on to {partner.code}"
        if rule.kind is not RuleKind.CLEARING:
            self.parts.append(_Part(partner.id, rule.id, partner.role, amount, basis))
            return
        keys = _clearing_keys(self.line, by_code, None)
        total = sum(keys.values(), Decimal(0))
        for (code, key), part in zip(keys.items(), allocate_minor(amount, list(keys.values()))):
            operator = by_code[code]
            self.parts.append(_Part(operator.id, rule.id, operator.role, part, f"{fmt(key)}/{fmt(total)} of {basis}"))

    def shares(self) -> list[Share]:
        return [Share(p.partner_id, p.rule_id, self.sign * p.amount, p.role, p.basis) for p in self.parts if p.amount]


def _runnable(rule: ShareRule, partners: Mapping[str, Partner], at: str) -> Partner:
    """The few checks without which a rule cannot be evaluated at all (the rest is `validate_rules`' job)."""
    partner = partners.get(rule.partner_id)
    if partner is None:
        raise SharingError(f"{at}.partner_id", f"unknown partner {rule.partner_id}")
    if rule.source_id is not None and rule.source_id not in partners:
        raise SharingError(f"{at}.source_id", f"unknown partner {rule.source_id}")
    if rule.kind in PERCENT_KINDS and rule.kind is not RuleKind.CLEARING and rule.percent is None:
        raise SharingError(f"{at}.percent", f"a {rule.kind.value} rule needs a percent")
    if rule.kind in AMOUNT_KINDS and rule.amount is None:
        raise SharingError(f"{at}.amount", f"a {rule.kind.value} rule needs an amount")
    return partner


def _in_scope(rule: ShareRule, line: SplitLine) -> bool:
    return (
        (not rule.plan_codes or line.plan_code in rule.plan_codes)
        and (not rule.charge_codes or line.charge_code in rule.charge_codes)
        and (not rule.metric_codes or line.metric_code in rule.metric_codes)
    )


def _clearing_keys(line: SplitLine, by_code: Mapping[str, Partner], day: date | None) -> dict[str, Decimal]:
    """The line's clearing keys by operator code, sorted; empty when there is nothing to clear.

    With a `day`, every named operator must be a partner with a contract on it.
    """
    keys = dict(sorted((line.clearing or {}).items()))
    for code, key in keys.items():
        if day is not None:
            operator = by_code.get(code)
            if operator is None:
                raise SharingError(f"clearing.{code}", f"no partner has the code {code}")
            if not operator.has_contract_on(day):
                raise SharingError(f"clearing.{code}", f"partner {code} has no contract on {day.isoformat()}")
        if key < 0:
            raise SharingError(f"clearing.{code}", "a clearing key must not be negative")
    return keys if sum(keys.values(), Decimal(0)) > 0 else {}


def _raw_amounts(rule: ShareRule, targets: list[_LineState], money: _Money) -> list[tuple[int, str]]:
    """What the rule gives on each line before a minimum or maximum, within what the source holds."""
    holds = [s.holding(rule.source_id) for s in targets]
    if rule.kind is RuleKind.FIXED_PER_PERIOD:
        total = money.round(money.minor(rule.amount))
        weights = [max(s.line.net_minor, 0) for s in targets]
        caps = [hold if weight else 0 for hold, weight in zip(holds, weights)]
        basis = f"{money.text(total)} per period, spread by net"
        return [(a, basis) for a in _spread(total, weights, caps)]
    out = []
    for state, hold in zip(targets, holds):
        amount, basis = _line_amount(rule, state, hold, money)
        amount = max(amount, 0)
        if amount > hold:
            amount, basis = hold, f"{basis}; limited to the {money.text(state.sign * hold)} its source holds"
        out.append((amount, basis))
    return out


def _line_amount(rule: ShareRule, state: _LineState, hold: int, money: _Money) -> tuple[int, str]:
    line = state.line
    if rule.kind in PERCENT_KINDS:
        base = hold if rule.of_source else abs(line.net_minor)
        text = f"{fmt(rule.pool_percent)}% of {money.text(state.sign * base)}"
        return money.round(Decimal(base) * rule.pool_percent / HUNDRED), text
    if state.sign < 0:
        return 0, ""
    if rule.kind is RuleKind.PER_UNIT:
        count, what = line.quantity, "units"
    elif line.transactions == 0 and line.kind == "one_time":
        count, what = line.quantity, "items"
    else:
        count, what = Decimal(line.transactions), "transactions"
    return money.round(money.minor(rule.amount * count)), f"{money.major(rule.amount)} x {fmt(count)} {what}"


def _bounded(rule: ShareRule, targets: list[_LineState], amounts: list[tuple[int, str]], money: _Money) -> list[tuple[int, str]]:
    """Apply the rule's minimum and maximum to its signed total over the period's lines."""
    total = sum(s.sign * a for s, (a, _) in zip(targets, amounts))
    target, note = total, ""
    if rule.max_minor is not None and target > rule.max_minor:
        target, note = rule.max_minor, f"; capped at {money.text(rule.max_minor)} per period"
    if rule.min_minor is not None and target < rule.min_minor:
        target, note = rule.min_minor, f"; raised to the minimum of {money.text(rule.min_minor)} per period"
    positive = [k for k, s in enumerate(targets) if s.sign > 0 and s.line.net_minor > 0]
    if target == total or not positive:
        return amounts
    negative_total = total - sum(amounts[k][0] for k in positive)
    weights = [amounts[k][0] for k in positive]
    if not any(weights):
        weights = [targets[k].line.net_minor for k in positive]
    holds = [targets[k].holding(rule.source_id) for k in positive]
    out = list(amounts)
    for k, amount in zip(positive, _spread(target - negative_total, weights, holds)):
        out[k] = (amount, amounts[k][1] + note)
    return out


def _spread(total: int, weights: list[int], caps: list[int]) -> list[int]:
    """Split `total` by `weights` with largest remainder, no part above its cap; what a cap stops goes to the
    parts with room left, in proportion to that room. Gives less than `total` only when the caps are full."""
    total = min(total, sum(caps))
    if total <= 0:
        return [0] * len(caps)
    parts = [min(p, c) for p, c in zip(allocate_minor(total, weights if any(weights) else caps), caps)]
    left = total - sum(parts)
    if left:
        parts = [p + extra for p, extra in zip(parts, allocate_minor(left, [c - p for p, c in zip(parts, caps)]))]
    return parts
