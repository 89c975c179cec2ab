"""Partner shares: summed per partner on a document, taken back in proportion by credit notes, exactly in total."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.invoice_factory.domain import party_totals, take_back


def test_party_totals_sum_per_partner_sorted_and_leave_out_partners_at_zero():
    shares = [("p-b", 300), ("p-a", 100), ("p-b", -50), ("p-c", 40), ("p-c", -40), ("p-a", 1)]
    assert party_totals(shares) == {"p-a": 101, "p-b": 250}
    assert list(party_totals(shares)) == ["p-a", "p-b"]


@pytest.mark.parametrize("line_left, credit, shares_left, expected", [
    (10000, 5000, [2000, 3000], (1000, 1500)),  # half the line takes back half of every share
    (10000, 10000, [2000, 3000], (2000, 3000)),  # all that is left takes back all that is left
    (1000, 1, [333, 333, 334], (0, 0, 1)),  # one cent goes to the largest remainder (the platform's 0 loses the tie)
    (1000, 500, [333, 333, 333], (167, 167, 166)),  # 166.5 each and 0.5 for the platform: two cents left, ties to the earlier
    (999, 333, [333, 333, 333], (111, 111, 111)),  # no rest for the platform
    (-3000, -1000, [-600, -900], (-200, -300)),  # a discount line carries negative shares, taken back negative
    (1000, 500, [1200, -300], (600, -150)),  # a share above the line and one below zero: each sign on its own
    (1000, 400, [], ()),  # a line without shares takes back nothing
])
def test_take_back_examples(line_left, credit, shares_left, expected):
    assert take_back(line_left, credit, shares_left) == expected


@pytest.mark.parametrize("line_left, credit", [(1000, 1001), (1000, -10), (1000, 0), (0, 5), (-500, 100)])
def test_a_credit_that_is_no_part_of_what_is_left_is_refused(line_left, credit):
    with pytest.raises(ValueError):
        take_back(line_left, credit, [100])


@st.composite
def credited_line(draw):
    """A positive line, its shares (summing to at most the line), and a series of partial credits leaving some of it."""
    net = draw(st.integers(1, 1_000_000))
    shares = draw(st.lists(st.integers(0, net), min_size=1, max_size=5).filter(lambda s: sum(s) <= net))
    credits, left = [], net
    for _ in range(draw(st.integers(0, 6))):
        if left <= 1:
            break
        credit = draw(st.integers(1, left - 1))
        credits.append(credit)
        left -= credit
    return net, shares, credits


@given(credited_line())
def test_partial_credits_and_a_final_cancellation_take_back_exactly_the_shares(case):
    net, shares, credits = case
    line_left, shares_left = net, list(shares)
    for credit in [*credits, None]:
        credit = line_left if credit is None else credit  # the cancellation credits what is left
        back = take_back(line_left, credit, shares_left)
        for part, left in zip(back, shares_left):
            exact = Fraction(left * credit, line_left)
            assert abs(part - exact) < 1 and 0 <= part <= left  # in proportion, never more than is left
        line_left -= credit
        shares_left = [left - part for left, part in zip(shares_left, back)]
    assert line_left == 0 and shares_left == [0] * len(shares)
