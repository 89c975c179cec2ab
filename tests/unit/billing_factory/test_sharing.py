"""Revenue sharing: worked cases with the amounts each partner gets, and what the platform keeps."""

from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal as D

import pytest

from libs.money import Rounding
from services.billing_factory.domain.sharing import (
    Contract, Partner, RuleKind, ShareRule, SplitContext, SplitLine, platform_share, split_lines, validate_rules,
)

JAN, JUN, JUL = date(2024, 1, 1), date(2024, 6, 1), date(2024, 7, 1)
PCT, FIXED_TX, PER_UNIT, PERIOD, CLEARING = (
    RuleKind.PERCENT, RuleKind.FIXED_PER_TRANSACTION, RuleKind.PER_UNIT, RuleKind.FIXED_PER_PERIOD, RuleKind.CLEARING,
)


def partner(pid, role="service", parent=None, since=JAN, until=None):
    return Partner(pid, pid.upper(), role, parent, (Contract(since, until),))


PARTNERS = {p.id: p for p in (
    partner("prov", "provider"), partner("maint"), partner("park"), partner("house", "clearing"),
    partner("db", "operator"), partner("rmv", "operator"), partner("vgf", "operator"),
    partner("r", "reseller"), partner("s", "reseller", parent="r"), partner("t", "reseller", parent="s"),
)}


def rule(rid, pid, kind=PCT, order=0, **kw):
    return ShareRule(rid, pid, kind, order, **kw)


def usage(net, trips=0, charge="trip", **kw):
    return SplitLine(charge, "usage", net, D(trips), transactions=trips, **kw)


def split(lines, rules, start=JUN, reseller=None, rounding=None):
    ctx = SplitContext("EUR", start, start + timedelta(days=30), reseller)
    result = split_lines(lines, rules, PARTNERS, ctx) if rounding is None else split_lines(lines, rules, PARTNERS, ctx, rounding)
    return [({s.partner_id: s.amount_minor for s in shares}, platform_share(line, shares)) for line, shares in zip(lines, result)]


MOBILITY = [rule("provider", "prov", percent=D(70)), rule("parking", "park", order=1, percent=D(5)),
            rule("maintenance", "maint", FIXED_TX, order=2, amount=D("0.50"))]
CHAIN = [rule("r20", "r", percent=D(20), resold_only=True),
         rule("s25", "s", order=1, percent=D(25), source_id="r", of_source=True, resold_only=True),
         rule("t10", "t", order=2, percent=D(10), source_id="s", of_source=True, resold_only=True)]
KM = {"DB": D(120), "RMV": D(30), "VGF": D(7)}


@pytest.mark.parametrize("lines, rules, kw, expected", [
    pytest.param(  # 30.00 for 12 trips: 70 % = 21.00, 5 % = 1.50, 12 x 0.50 = 6.00; the platform keeps 1.50
        [usage(3000, 12)], MOBILITY, {}, [({"prov": 2100, "park": 150, "maint": 600}, 150)], id="mobility"),
    pytest.param(  # 10.00 for 10 trips: maintenance would be 5.00 but only 2.50 is left to carve from
        [usage(1000, 10)], MOBILITY, {}, [({"prov": 700, "park": 50, "maint": 250}, 0)], id="mobility-fixed-fee-capped-by-remainder"),
    pytest.param(  # 123.45 sold by t: r 20 % = 24.69, s 25 % of it = 6.17, t 10 % of s's = 0.62
        [usage(12345)], CHAIN, {"reseller": "t"}, [({"r": 1852, "s": 555, "t": 62}, 9876)], id="chain-3-deep"),
    pytest.param(  # sold by s: t is below the seller, its rule does not apply
        [usage(12345)], CHAIN, {"reseller": "s"}, [({"r": 1852, "s": 617}, 9876)], id="chain-sold-by-middle"),
    pytest.param([usage(12345)], CHAIN, {"reseller": "prov"}, [({}, 12345)], id="chain-not-resold"),
    pytest.param(  # 12.40 by km 120/30/7: 9.4777 / 2.3694 / 0.5529 -> largest remainder 9.48 / 2.37 / 0.55
        [usage(1240, 1, clearing=KM)], [rule("c", "house", CLEARING)], {}, [({"db": 948, "rmv": 237, "vgf": 55}, 0)], id="clearing"),
    pytest.param(  # a 90 % pool: 11.16 -> 8.53 / 2.13 / 0.50, the platform keeps 1.24
        [usage(1240, 1, clearing=KM)], [rule("c", "house", CLEARING, percent=D(90))], {},
        [({"db": 853, "rmv": 213, "vgf": 50}, 124)], id="clearing-pool"),
    pytest.param(  # a line without keys is not cleared
        [usage(1240, 1)], [rule("c", "house", CLEARING)], {}, [({}, 1240)], id="clearing-no-keys"),
    pytest.param(  # 5 % = 0.50 + 1.00, raised to the minimum 2.00 in proportion: 0.67 + 1.33
        [usage(1000), usage(2000)], [rule("p", "park", percent=D(5), min_minor=200, max_minor=1000)], {},
        [({"park": 67}, 933), ({"park": 133}, 1867)], id="minimum"),
    pytest.param(  # 5 % = 7.50 + 5.00, capped at 10.00 in proportion: 6.00 + 4.00
        [usage(15000), usage(10000)], [rule("p", "park", percent=D(5), min_minor=200, max_minor=1000)], {},
        [({"park": 600}, 14400), ({"park": 400}, 9600)], id="cap"),
    pytest.param(  # the minimum cannot take more than the platform still holds after the provider's 99 %
        [usage(1000), usage(2000)], [rule("a", "prov", percent=D(99)), rule("p", "park", order=1, percent=D(5), min_minor=200)], {},
        [({"prov": 990, "park": 10}, 0), ({"prov": 1980, "park": 20}, 0)], id="minimum-within-source"),
    pytest.param(  # the minimum counts the discount's -0.50: the fee line carries 2.50 so the period gets 2.00
        [usage(2000), SplitLine("trip", "discount", -1000, D(1))], [rule("p", "park", percent=D(5), min_minor=200)], {},
        [({"park": 250}, 1750), ({"park": -50}, -950)], id="minimum-with-discount"),
    pytest.param(  # percentages bear a discount in proportion; a per-trip fee does not apply to it
        [usage(10000, 3, charge="fee"), SplitLine("fee", "discount", -1000, D(1), transactions=3)],
        [rule("a", "prov", percent=D(70)), rule("m", "maint", FIXED_TX, order=1, amount=D("0.50"))], {},
        [({"prov": 7000, "maint": 150}, 2850), ({"prov": -700}, -300)], id="negative-discount"),
    pytest.param(  # stacking on a discount: r bears -2.00 and passes -0.50 of it on to s
        [SplitLine("fee", "discount", -1000, D(1))], CHAIN[:2], {"reseller": "s"}, [({"r": -150, "s": -50}, -800)], id="negative-chain"),
    pytest.param(  # 10.00 per period spread by net 30 : 10 : 20; nothing on the zero and the negative line
        [usage(3000), usage(1000), usage(0), usage(2000), SplitLine("trip", "discount", -500, D(1))],
        [rule("f", "maint", PERIOD, amount=D(10))], {},
        [({"maint": 500}, 2500), ({"maint": 167}, 833), ({}, 0), ({"maint": 333}, 1667), ({}, -500)], id="fixed-per-period"),
    pytest.param(  # 0.012 per kWh x 1234.5 kWh = 14.814 -> 14.81
        [SplitLine("energy", "usage", 5000, D("1234.5"), metric_code="kwh")], [rule("u", "prov", PER_UNIT, amount=D("0.012"), metric_codes=frozenset({"kwh"}))], {},
        [({"prov": 1481}, 3519)], id="per-unit"),
    pytest.param(  # a one-time item has no usage events: its quantity counts as transactions
        [SplitLine("setup", "one_time", 3000, D(3)), SplitLine("fee", "fee", 3000, D(1))], [rule("m", "maint", FIXED_TX, amount=D(2))], {},
        [({"maint": 600}, 2400), ({}, 3000)], id="one-time-quantity"),
    pytest.param(  # scopes: only the plan "pro" and the charge "trip"
        [usage(1000, plan_code="pro"), usage(1000, plan_code="basic"), usage(1000, charge="fee", plan_code="pro")],
        [rule("a", "prov", percent=D(50), plan_codes=frozenset({"pro"}), charge_codes=frozenset({"trip"}))], {},
        [({"prov": 500}, 500), ({}, 1000), ({}, 1000)], id="scopes"),
])
def test_split(lines, rules, kw, expected):
    assert split(lines, rules, **kw) == expected


VALIDITY = [rule("old", "prov", percent=D(70), valid_to=JUL), rule("new", "prov", percent=D(60), valid_from=JUL)]


@pytest.mark.parametrize("start, expected", [(JUN, 7000), (JUL, 6000), (date(2025, 1, 1), 6000)])
def test_a_rule_applies_in_the_periods_starting_within_its_validity(start, expected):
    validate_rules(VALIDITY, PARTNERS)  # 70 % and 60 % never apply together
    assert split([usage(10000)], VALIDITY, start=start) == [({"prov": expected}, 10000 - expected)]


def test_a_rule_does_not_apply_once_the_partners_contract_has_ended():
    partners = {**PARTNERS, "prov": partner("prov", "provider", until=JUL)}
    ctx = SplitContext("EUR", JUL, date(2024, 8, 1))
    assert split_lines([usage(10000)], [rule("a", "prov", percent=D(70))], partners, ctx) == [[]]


@pytest.mark.parametrize("rounding, expected", [(None, 251), (ROUND_HALF_EVEN, 250), (Rounding.HALF_EVEN, 250), (Rounding.UP, 251)])
def test_each_share_is_rounded_once_with_the_given_rounding(rounding, expected):
    # 25 % of 10.02 = 2.505
    assert split([usage(1002)], [rule("a", "prov", percent=D(25))], rounding=rounding)[0][0] == {"prov": expected}


def test_shares_carry_role_rule_and_a_basis_for_reports():
    shares = split_lines([usage(12345)], CHAIN, PARTNERS, SplitContext("EUR", JUN, JUL, "t"))[0]
    assert [(s.partner_id, s.rule_id, s.role, s.basis) for s in shares] == [
        ("r", "r20", "reseller", "20% of 123.45; 6.17 passed on to S"),
        ("s", "s25", "reseller", "25% of 24.69; 0.62 passed on to T"),
        ("t", "t10", "reseller", "10% of 6.17"),
    ]


def test_clearing_shares_name_their_key():
    shares = split_lines([usage(1240, clearing=KM)], [rule("c", "house", CLEARING)], PARTNERS, SplitContext("EUR", JUN, JUL))[0]
    assert [(s.partner_id, s.rule_id, s.role, s.basis) for s in shares] == [
        ("db", "c", "operator", "120/157 of 100% of 12.40"),
        ("rmv", "c", "operator", "30/157 of 100% of 12.40"),
        ("vgf", "c", "operator", "7/157 of 100% of 12.40"),
    ]


def test_rules_run_by_order_then_id_whatever_the_list_order():
    # both take 60 % of the net from the platform: the first in order gets it, the second gets what is left
    rules = [rule("b", "park", order=1, percent=D(60)), rule("z", "maint", percent=D(60)), rule("a", "prov", order=1, percent=D(60))]
    assert split([usage(1000)], rules) == [({"maint": 600, "prov": 400}, 0)]
