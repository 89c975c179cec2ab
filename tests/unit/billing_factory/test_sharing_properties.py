"""Invariants of revenue sharing, on generated rule sets (validated or not) and lines."""

from collections import defaultdict
from dataclasses import replace
from datetime import date
from decimal import ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal as D

from hypothesis import given, settings, strategies as st

from services.billing_factory.domain.sharing import (
    Contract, Partner, RuleKind, ShareRule, SplitContext, SplitLine, platform_share, split_lines,
)

JAN = date(2024, 1, 1)
CTX = SplitContext("EUR", date(2024, 6, 1), date(2024, 7, 1))
PARTNERS = {p.id: p for p in (
    Partner("r", "R", "reseller", None, (Contract(JAN),)), Partner("s", "S", "reseller", "r", (Contract(JAN),)),
    Partner("t", "T", "reseller", "s", (Contract(JAN),)), Partner("p1", "P1", "provider", None, (Contract(JAN),)),
    Partner("p2", "P2", "service", None, (Contract(JAN),)), Partner("house", "HOUSE", "clearing", None, (Contract(JAN),)),
    *(Partner(f"o{k}", f"O{k}", "operator", None, (Contract(JAN),)) for k in (1, 2, 3)),
)}
ABOVE = {"r": [], "s": ["r"], "t": ["s", "r"], "p1": [], "p2": [], "house": []}
PERCENT_KINDS = [RuleKind.PERCENT, RuleKind.COMMISSION, RuleKind.CLEARING]
ALL_KINDS = [*PERCENT_KINDS, RuleKind.FIXED_PER_TRANSACTION, RuleKind.FIXED_PER_PERIOD, RuleKind.PER_UNIT]
ROUNDINGS = st.sampled_from([ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_DOWN, ROUND_UP, ROUND_FLOOR])


@st.composite
def rule_sets(draw, kinds=ALL_KINDS, bounds=True, max_size=6):
    """Rules as an operator might enter them, not validated: percentages may add up past 100."""
    out = []
    for k in range(draw(st.integers(0, max_size))):
        kind = draw(st.sampled_from(kinds))
        pid = draw(st.sampled_from(sorted(ABOVE)))
        in_percent = kind in PERCENT_KINDS
        low, high = sorted(draw(st.lists(st.integers(0, 5000), min_size=2, max_size=2))) if bounds and draw(st.booleans()) else (None, None)
        out.append(ShareRule(
            f"r{k}", pid, kind, draw(st.integers(0, 3)),
            percent=draw(st.decimals(0, 100, places=2)) if in_percent else None,
            amount=None if in_percent else draw(st.decimals(0, 20, places=3)),
            source_id=draw(st.sampled_from([None, *ABOVE[pid]])), of_source=draw(st.booleans()),
            charge_codes=frozenset(draw(st.sets(st.sampled_from("ab"), max_size=1))),
            resold_only=draw(st.booleans()), min_minor=low if draw(st.booleans()) else None, max_minor=high,
        ))
    return out


@st.composite
def line_sets(draw, low=-20_000, max_size=5):
    out = []
    for _ in range(draw(st.integers(1, max_size))):
        net = draw(st.integers(low, 100_000))
        keys = draw(st.one_of(st.none(), st.dictionaries(st.sampled_from(["O1", "O2", "O3"]), st.decimals(0, 500, places=1), max_size=3)))
        kind = "discount" if net < 0 else draw(st.sampled_from(["usage", "fee", "one_time"]))
        out.append(SplitLine(draw(st.sampled_from("ab")), kind, net, draw(st.decimals(0, 1000, places=2)),
                             transactions=draw(st.integers(0, 50)), clearing=keys))
    return out


contexts = st.sampled_from([None, "r", "s", "t"]).map(lambda seller: replace(CTX, reseller_id=seller))


@given(line_sets(), rule_sets(), contexts, ROUNDINGS)
@settings(max_examples=120, deadline=None)
def test_shares_never_exceed_the_line_and_no_holder_goes_below_zero(lines, rules, ctx, rounding):
    result = split_lines(lines, rules, PARTNERS, ctx, rounding)
    assert len(result) == len(lines)
    for line, shares in zip(lines, result):
        sign = -1 if line.net_minor < 0 else 1
        by_partner = defaultdict(int)
        for share in shares:
            assert sign * share.amount_minor > 0  # signed like the line, zeros left out
            by_partner[share.partner_id] += share.amount_minor
        assert all(0 < sign * total <= abs(line.net_minor) for total in by_partner.values())
        # the platform keeps what is left: between zero and the whole net
        assert 0 <= sign * platform_share(line, shares) <= abs(line.net_minor)


@given(line_sets(), rule_sets(), contexts, st.randoms(use_true_random=False))
@settings(max_examples=60, deadline=None)
def test_the_result_does_not_depend_on_the_order_rules_are_listed_in(lines, rules, ctx, rnd):
    shuffled = list(rules)
    rnd.shuffle(shuffled)
    assert split_lines(lines, shuffled, PARTNERS, ctx) == split_lines(lines, rules, PARTNERS, ctx)


@given(line_sets(low=0), rule_sets(), contexts, st.decimals(0, 100, places=2), st.decimals(0, 100, places=2), st.integers(0, 3))
@settings(max_examples=120, deadline=None)
def test_raising_a_partners_percent_never_lowers_its_share(lines, rules, ctx, a, b, order):
    def total_of_p1(percent):
        target = ShareRule("target", "p1", RuleKind.PERCENT, order, percent=percent)
        result = split_lines(lines, [*rules, target], PARTNERS, ctx)
        return sum(s.amount_minor for shares in result for s in shares if s.partner_id == "p1")

    low, high = sorted((a, b))
    assert total_of_p1(low) <= total_of_p1(high)


@given(line_sets(low=1), rule_sets(kinds=PERCENT_KINDS, bounds=False), contexts, ROUNDINGS)
@settings(max_examples=80, deadline=None)
def test_a_credit_of_the_same_lines_reverses_every_share_exactly(lines, rules, ctx, rounding):
    credits = [replace(line, kind="credit", net_minor=-line.net_minor) for line in lines]
    charged = split_lines(lines, rules, PARTNERS, ctx, rounding)
    reversed_ = split_lines(credits, rules, PARTNERS, ctx, rounding)
    assert [[(s.partner_id, s.rule_id, -s.amount_minor) for s in shares] for shares in charged] == \
        [[(s.partner_id, s.rule_id, s.amount_minor) for s in shares] for shares in reversed_]


@given(st.integers(0, 1_000_000), st.dictionaries(st.sampled_from(["O1", "O2", "O3"]), st.decimals(0, 500, places=1), min_size=1, max_size=3))
def test_clearing_splits_the_whole_pool_each_operator_within_a_cent_of_its_key(net, keys):
    line = SplitLine("ticket", "usage", net, D(1), clearing=keys)
    shares = split_lines([line], [ShareRule("c", "house", RuleKind.CLEARING)], PARTNERS, CTX)[0]
    total_key = sum(keys.values())
    if total_key == 0:
        assert shares == []
        return
    assert sum(s.amount_minor for s in shares) == net
    got = {s.partner_id: s.amount_minor for s in shares}
    for code, key in keys.items():
        assert abs(got.get(code.lower(), 0) - D(net) * key / total_key) < 1
