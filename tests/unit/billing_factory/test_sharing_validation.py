"""Revenue sharing refuses bad rule sets, chains and clearing keys, each time naming the field."""

from datetime import date
from decimal import Decimal as D

import pytest

from services.billing_factory.domain.sharing import (
    Contract, Partner, RuleKind, ShareRule, SharingError, SplitContext, SplitLine, split_lines, validate_chain, validate_rules,
)

JAN, APR, JUL = date(2024, 1, 1), date(2024, 4, 1), date(2024, 7, 1)
PCT = RuleKind.PERCENT


def partners(*specs):
    """(id, parent) pairs, each with a contract from January on."""
    return {pid: Partner(pid, pid.upper(), "reseller", parent, (Contract(JAN),)) for pid, parent in specs}


FLAT = partners(("a", None), ("b", None), ("c", None))
CHAIN = partners(("r", None), ("s", "r"), ("t", "s"), ("x", None))


def pct(rid, pid, percent, **kw):
    return ShareRule(rid, pid, PCT, percent=D(percent), **kw)


def refused(call, *args):
    with pytest.raises(SharingError) as error:
        call(*args)
    return error.value.field


@pytest.mark.parametrize("parent, field", [("a", "parent_id"), ("zz", "parent_id"), ("c", "parent_id")])
def test_chain_refuses_self_unknown_and_cycles(parent, field):
    # b below a, c below b: a under c would close a -> b -> c -> a
    chain = partners(("a", None), ("b", "a"), ("c", "b"))
    assert refused(validate_chain, chain, "a", parent) == field


def test_chain_accepts_a_new_parent_that_closes_no_loop():
    chain = partners(("a", None), ("b", "a"), ("c", "b"), ("d", None))
    validate_chain(chain, "c", "d")
    validate_chain(chain, "d", "c")
    validate_chain(chain, "a", None)


def test_a_loop_already_in_the_partners_is_refused_when_rules_walk_it():
    looped = {"a": Partner("a", "A", "reseller", "c", (Contract(JAN),)), **{k: v for k, v in partners(("b", "a"), ("c", "b")).items()}}
    assert refused(validate_rules, [pct("x", "b", 10, source_id="a", of_source=True)], looped) == "parent_id"


@pytest.mark.parametrize("rules, field", [
    pytest.param([pct("p", "a", 70), pct("q", "b", 31)], "rules[1].percent", id="percent-sum-101"),
    pytest.param([pct("q", "b", 31, order=0), pct("p", "a", 70, order=1)], "rules[1].percent", id="names-the-last-in-order"),
    pytest.param([pct("p", "a", 101)], "rules[0].percent", id="percent-above-100"),
    pytest.param([pct("p", "a", -1)], "rules[0].percent", id="percent-negative"),
    pytest.param([ShareRule("p", "a", PCT)], "rules[0].percent", id="percent-missing"),
    pytest.param([ShareRule("p", "a", PCT, percent=D(5), amount=D(1))], "rules[0].amount", id="amount-on-percent-rule"),
    pytest.param([ShareRule("p", "a", RuleKind.PER_UNIT)], "rules[0].amount", id="amount-missing"),
    pytest.param([ShareRule("p", "a", RuleKind.FIXED_PER_PERIOD, amount=D(-1))], "rules[0].amount", id="amount-negative"),
    pytest.param([ShareRule("p", "a", RuleKind.PER_UNIT, amount=D(1), percent=D(5))], "rules[0].percent", id="percent-on-amount-rule"),
    pytest.param([pct("p", "a", 5, min_minor=500, max_minor=100)], "rules[0].max_minor", id="min-above-max"),
    pytest.param([pct("p", "a", 5, min_minor=-1)], "rules[0].min_minor", id="min-negative"),
    pytest.param([pct("p", "a", 5, valid_from=APR, valid_to=APR)], "rules[0].valid_to", id="empty-validity"),
    pytest.param([pct("p", "zz", 5)], "rules[0].partner_id", id="unknown-partner"),
    pytest.param([pct("p", "a", 5), pct("p", "b", 5)], "rules[1].id", id="duplicate-id"),
    pytest.param([pct("p", "a", 5, source_id="zz")], "rules[0].source_id", id="unknown-source"),
    pytest.param([pct("p", "a", 5, source_id="a")], "rules[0].source_id", id="own-source"),
    pytest.param([pct("p", "a", 5, source_id="b")], "rules[0].source_id", id="source-not-above"),
])
def test_rule_set_refused(rules, field):
    assert refused(validate_rules, rules, FLAT) == field


@pytest.mark.parametrize("rules, field", [
    pytest.param([pct("s", "s", 60, source_id="r", of_source=True), pct("t", "t", 50, source_id="r", of_source=True)],
                 "rules[1].percent", id="of-source-sum"),
    pytest.param([pct("s", "s", 10, source_id="t")], "rules[0].source_id", id="source-below"),
    pytest.param([pct("r", "r", 60, resold_only=True), pct("s", "s", 50, resold_only=True)], "rules[1].percent", id="resold-same-chain"),
])
def test_chain_rule_set_refused(rules, field):
    assert refused(validate_rules, rules, CHAIN) == field


@pytest.mark.parametrize("rules", [
    pytest.param([pct("p", "a", 70), pct("q", "b", 30)], id="exactly-100"),
    pytest.param([pct("p", "a", 70, charge_codes=frozenset({"x"})), pct("q", "b", 70, charge_codes=frozenset({"y"}))], id="disjoint-charges"),
    pytest.param([pct("p", "a", 70, metric_codes=frozenset({"x"})), pct("q", "b", 70, metric_codes=frozenset({"y"})),
                  pct("z", "c", 30)], id="unscoped-rule-meets-each-of-two-disjoint-ones"),
    pytest.param([pct("p", "a", 60, valid_to=APR), pct("q", "b", 60, valid_from=APR, valid_to=JUL), pct("z", "c", 40, valid_to=JUL)],
                 id="third-rule-overlaps-two-that-never-meet"),
    pytest.param([pct("p", "a", 70), pct("q", "b", 70, source_id=None, of_source=True)], id="net-and-remainder-counted-apart"),
])
def test_rule_set_accepted(rules):
    validate_rules(rules, FLAT)


def test_scoped_rules_that_do_meet_are_refused():
    rules = [pct("p", "a", 70, metric_codes=frozenset({"x"})), pct("q", "b", 70, plan_codes=frozenset({"y"}))]
    assert refused(validate_rules, rules, FLAT) == "rules[1].percent"  # a line of plan y with metric x gets both


def test_resold_only_rules_of_sibling_resellers_never_meet():
    validate_rules([pct("r", "r", 60, resold_only=True), pct("x", "x", 60, resold_only=True)], CHAIN)


def test_stacking_along_the_chain_is_accepted():
    validate_rules([pct("r", "r", 20), pct("s", "s", 25, source_id="r", of_source=True), pct("t", "t", 10, source_id="s", of_source=True)], CHAIN)


@pytest.mark.parametrize("contracts, valid_from, valid_to, field", [
    pytest.param((Contract(APR, JUL),), JAN, None, "rules[0].valid_from", id="starts-before"),
    pytest.param((Contract(APR, JUL),), APR, date(2024, 9, 1), "rules[0].valid_to", id="ends-after"),
    pytest.param((Contract(JAN, APR), Contract(APR, JUL)), date(2024, 3, 1), date(2024, 5, 1), "rules[0].valid_to", id="spans-two"),
    pytest.param((), None, None, "rules[0].valid_from", id="no-contract"),
])
def test_a_rule_outside_the_partners_contracts_is_refused(contracts, valid_from, valid_to, field):
    outside = {"a": Partner("a", "A", "provider", None, contracts)}
    assert refused(validate_rules, [pct("p", "a", 5, valid_from=valid_from, valid_to=valid_to)], outside) == field


def test_a_rule_inside_a_contract_or_without_dates_is_accepted():
    inside = {"a": Partner("a", "A", "provider", None, (Contract(APR, JUL),))}
    validate_rules([pct("p", "a", 5, valid_from=APR, valid_to=JUL), pct("q", "a", 5), pct("z", "a", 5, valid_to=date(2024, 5, 1))], inside)


OPERATORS = {**FLAT, "late": Partner("late", "LATE", "operator", None, (Contract(JUL),))}


@pytest.mark.parametrize("keys, field", [
    ({"A": D(10), "XYZ": D(5)}, "clearing.XYZ"),
    ({"A": D(10), "LATE": D(5)}, "clearing.LATE"),
    ({"A": D(10), "B": D(-1)}, "clearing.B"),
])
def test_clearing_keys_must_name_operators_under_contract(keys, field):
    line = SplitLine("ticket", "usage", 1240, D(1), clearing=keys)
    ctx = SplitContext("EUR", APR, JUL)
    assert refused(split_lines, [line], [ShareRule("c", "c", RuleKind.CLEARING)], OPERATORS, ctx) == field


@pytest.mark.parametrize("rules, currency, field", [
    ([pct("p", "zz", 5)], "EUR", "rules[0].partner_id"),
    ([ShareRule("p", "a", PCT)], "EUR", "rules[0].percent"),
    ([pct("p", "a", 5)], "XXX", "currency"),
])
def test_split_refuses_what_it_cannot_evaluate(rules, currency, field):
    assert refused(split_lines, [SplitLine("f", "fee", 100, D(1))], rules, FLAT, SplitContext(currency, APR, JUL)) == field
