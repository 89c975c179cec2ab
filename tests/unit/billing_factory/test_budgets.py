from decimal import Decimal as D

import pytest

from services.billing_factory.domain.budgets import Budget, reached, usage_of

BUDGET = Budget("b", "charges", D(20000), (50, 80, 100))


@pytest.mark.parametrize("value, announced, expected", [
    (D(9999), set(), []),
    (D(10000), set(), [50]),                 # exactly at a level counts
    (D(20000), set(), [50, 80, 100]),        # one jump past several levels announces each
    (D(20000), {50, 80}, [100]),             # announced levels are not repeated
    (D(50000), {50, 80, 100}, []),
])
def test_levels_reached(value, announced, expected):
    assert reached(BUDGET, value, announced) == expected


def test_usage_counts_only_usage_and_tier_lines_of_the_charge():
    lines = [{"charge_code": "calls", "kind": "tier_step", "quantity": "1000"},
             {"charge_code": "calls", "kind": "tier_step", "quantity": "250.5"},
             {"charge_code": "calls", "kind": "cap", "quantity": "-1"},
             {"charge_code": "calls", "kind": "parameter_info", "quantity": "0"},
             {"charge_code": "other", "kind": "usage", "quantity": "7"}]
    assert usage_of("calls", lines) == D("1250.5")
