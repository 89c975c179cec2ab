"""The seam between stored plan definitions and the rating domain: decoding, problems naming API fields, contract lines."""

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from libs.contracts.events import DraftLine
from libs.money import Money
from services.billing_factory.app.errors import Invalid
from services.billing_factory.app.plan_codec import currencies, draft, events_for, plan_from_definition, rate_period
from services.billing_factory.domain import InvalidUsage, LineKind, Period, UsageEvent
from services.billing_factory.domain.lines import Line, make_money
from services.billing_factory.domain.metrics import make_event

T0, T1 = datetime(2026, 9, 1, tzinfo=timezone.utc), datetime(2026, 10, 1, tzinfo=timezone.utc)
METRICS = {"calls": {"aggregation": "count", "field": None, "decimals": 0}, "gb": {"aggregation": "sum", "field": "gb", "decimals": 3}}


def plan(*charges, **extra):
    return {"code": "p", "name": "P", "currency": "EUR", "interval": "month", "charges": list(charges), **extra}


@pytest.mark.parametrize("charge, field", [
    ({"code": "g", "name": "G", "model": "graduated", "metric": "calls",
      "tiers": [{"up_to": "10", "unit_price": "1"}, {"up_to": "5", "unit_price": "0.5"}, {"up_to": None, "unit_price": "0.1"}]},
     "charges[0].tiers[1].up_to"),
    ({"code": "g", "name": "G", "model": "volume", "metric": "calls", "tiers": [{"up_to": None, "unit_price": "1"}, {"up_to": "5", "unit_price": "1"}]},
     "charges[0].tiers[0].up_to"),
    ({"code": "u", "name": "U", "model": "per_unit", "metric": "calls", "unit_price": "-0.01"}, "charges[0].unit_price"),
    ({"code": "f", "name": "F", "model": "flat_fee"}, "charges[0].amount"),
    ({"code": "k", "name": "K", "model": "package", "metric": "gb", "package_size": "0", "package_price": "1"}, "charges[0].package_size"),
    ({"code": "p", "name": "P", "model": "percentage", "metric": "gb", "percentage": "2", "amount_field": "gb",
      "min_per_transaction": "2", "max_per_transaction": "1"}, "charges[0].max_per_transaction"),
    ({"code": "u", "name": "U", "model": "per_unit", "metric": "calls", "unit_price": "1", "minimum_amount": "-1"}, "charges[0].minimum_amount"),
    ({"code": "f", "name": "F", "model": "flat_fee", "amount": "1",
      "versions": [{"valid_from": "2026-09-10T00:00:00Z", "valid_until": "2026-09-05T00:00:00Z", "amount": "2"}]}, "charges[0].versions[0].valid_until"),
    ({"code": "f", "name": "F", "model": "flat_fee", "amount": "1", "versions": [{"valid_from": "2026-09-10T00:00:00", "amount": "2"}]},
     "charges[0].versions[0].valid_from"),
    ({"code": "f", "name": "F", "model": "flat_fee", "amount": "1", "tax_category": "S", "tax_rate": "0"}, "charges[0].tax_rate"),
    ({"code": "u", "name": "U", "model": "per_unit", "metric": "nope", "unit_price": "1"}, "charges[0].metric"),
])
def test_a_bad_charge_is_refused_naming_the_field_the_caller_sent(charge, field):
    with pytest.raises(Invalid) as exc:
        plan_from_definition(plan(charge), METRICS)
    assert exc.value.field == field


def test_an_unknown_currency_and_a_missing_price_in_a_currency_name_their_field():
    fee = {"code": "f", "name": "F", "model": "flat_fee", "amount": "10"}
    with pytest.raises(Invalid) as exc:
        plan_from_definition({**plan(fee), "currency": "XYZ"}, METRICS)
    assert exc.value.field == "currency"
    with pytest.raises(Invalid) as exc:
        plan_from_definition(plan(fee), METRICS, "CHF")
    assert exc.value.field == "charges[0].prices.CHF"


def test_a_plan_bills_in_every_currency_all_its_charges_are_priced_in():
    d = plan({"code": "f", "name": "F", "model": "flat_fee", "amount": "10", "prices": {"CHF": {"amount": "9.50"}, "USD": {"amount": "11"}}},
             {"code": "u", "name": "U", "model": "per_unit", "metric": "calls", "unit_price": "1", "prices": {"CHF": {"unit_price": "0.95"}}})
    assert currencies(d) == ["EUR", "CHF"]
    chf = plan_from_definition(d, METRICS, "CHF")
    assert chf.currency == "CHF" and chf.charges[0].price.amount == Decimal("9.50") and chf.charges[1].price.unit_price == Decimal("0.95")


def test_a_charge_grouping_its_own_way_sees_the_same_events_under_an_alias():
    d = plan({"code": "a", "name": "All", "model": "per_unit", "metric": "gb", "unit_price": "1"},
             {"code": "r", "name": "By region", "model": "per_unit", "metric": "gb", "unit_price": "1", "group_by": "region"})
    p = plan_from_definition(d, METRICS)
    rows = [{"event_id": "e1", "metric": "gb", "timestamp": T0, "properties": {"gb": "2", "region": "EU"}},
            {"event_id": "e2", "metric": "gb", "timestamp": T0, "properties": {"gb": "3", "region": "US"}}]
    lines = rate_period(p, Period(T0, T1), T0, None, events_for(p, rows), T1)
    assert [(l.charge_code, l.description, l.net_minor) for l in lines] == [
        ("a", "All", 500), ("r", "By region (region: EU)", 200), ("r", "By region (region: US)", 300)]


def test_events_parse_the_metric_property_once_and_leave_garbage_for_rating_to_refuse():
    p = plan_from_definition(plan({"code": "s", "name": "S", "model": "per_unit", "metric": "gb", "unit_price": "1"}), METRICS)
    [good] = events_for(p, [{"event_id": "e", "metric": "gb", "timestamp": T0, "properties": {"gb": "1.5"}}])
    assert good.properties["gb"] == Decimal("1.5") and type(good.properties["gb"]) is Decimal
    bad = events_for(p, [{"event_id": "x", "metric": "gb", "timestamp": T0, "properties": {"gb": "lots"}}])
    with pytest.raises(InvalidUsage) as exc:
        rate_period(p, Period(T0, T1), T0, None, bad, T1)
    assert exc.value.field == "properties.gb" and exc.value.event_id == "x"


def test_trusted_constructors_build_what_the_validating_ones_build():
    assert make_event("e", "m", T0, {"a": 1}, Decimal(2)) == UsageEvent("e", "m", T0, {"a": 1}, Decimal(2))
    assert make_money(123, "EUR") == Money(123, "EUR")
    line = Line("c", LineKind.CAP, "Cap", "Cap", Decimal(1), Decimal("-5.00"), Money(-500, "EUR"), "S", Decimal(19), T0, T1, None, "i")
    built = draft(line)
    expected = DraftLine(charge_code="c", description="Cap", kind="cap", quantity=Decimal(-1), unit_price=Decimal("5.00"), net_minor=-500,
                         tax_category="S", tax_rate=Decimal(19), detail="i", period_start=T0.date(), period_end=datetime(2026, 9, 30).date())
    assert built == expected and built.model_dump(mode="json") == expected.model_dump(mode="json")
    assert built.model_copy(update={"net_minor": 1}).net_minor == 1
