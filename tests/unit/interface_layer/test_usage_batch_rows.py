"""The batch route and the raw consumer validate into dicts (USAGE_BATCH_ROWS, RAW_USAGE_ROW); they must accept and refuse
exactly what the documented models (UsageBatchIn, RawUsageIn) do."""

import json

import pytest
from pydantic import ValidationError

from services.interface_layer.entrypoints.schemas import RAW_USAGE_ROW, USAGE_BATCH_ROWS, RawUsageIn, UsageBatchIn, batch_errors

GOOD = {"event_id": "e-1", "customer": "meter-7", "metric": "kwh", "timestamp": "2026-11-23T12:00:00+01:00",
        "properties": {"kwh": "1.5", "region": "EU"}}


def batch(*events) -> bytes:
    return json.dumps({"events": list(events)}).encode()


BODIES = {
    "good": batch(GOOD, {**GOOD, "event_id": "e-2", "subscription": "sub_1"}),
    "no properties, subscription null": batch({k: v for k, v in GOOD.items() if k != "properties"} | {"subscription": None}),
    "naive timestamp": batch({**GOOD, "timestamp": "2026-11-23T12:00:00"}),
    "unix timestamp": batch({**GOOD, "timestamp": 1795000000}),
    "missing metric": batch({k: v for k, v in GOOD.items() if k != "metric"}),
    "extra field": batch({**GOOD, "quantity": 5}),
    "bad event id": batch({**GOOD, "event_id": "a b"}),
    "bad metric": batch({**GOOD, "metric": "KWh"}),
    "bad subscription": batch({**GOOD, "subscription": ""}),
    "bad timestamp": batch({**GOOD, "timestamp": "yesterday"}),
    "empty property name": batch({**GOOD, "properties": {"": 1}}),
    "long property name": batch({**GOOD, "properties": {"p" * 101: 1}}),
    "properties not an object": batch({**GOOD, "properties": [1]}),
    "event not an object": batch("e-1"),
    "no events": batch(),
    "too many events": batch(*({**GOOD, "event_id": f"e{i}"} for i in range(1001))),
    "events not a list": json.dumps({"events": GOOD}).encode(),
    "extra top-level field": json.dumps({"events": [GOOD], "tenant": "x"}).encode(),
    "not json": b'{"events": [',
    "not an object": b"[]",
}


def outcome_of_model(body: bytes):
    try:
        parsed = UsageBatchIn.model_validate_json(body)
    except ValidationError as exc:
        return "refused", [(e["type"], e["loc"], e["msg"]) for e in exc.errors()]
    return "accepted", [(e.event_id, e.customer, e.metric, e.timestamp, e.properties, e.subscription) for e in parsed.events]


def outcome_of_rows(body: bytes):
    try:
        parsed = USAGE_BATCH_ROWS.validate_json(body)
    except ValidationError as exc:
        return "refused", [(e["type"], e["loc"], e["msg"]) for e in batch_errors(exc)]
    return "accepted", [(e["event_id"], e["customer"], e["metric"], e["timestamp"], e.get("properties", {}), e.get("subscription"))
                        for e in parsed["events"]]


@pytest.mark.parametrize("name", BODIES)
def test_rows_and_model_agree(name):
    assert outcome_of_rows(BODIES[name]) == outcome_of_model(BODIES[name])


def test_the_cases_cover_both_outcomes():
    outcomes = {name: outcome_of_model(body)[0] for name, body in BODIES.items()}
    assert outcomes["good"] == outcomes["no properties, subscription null"] == "accepted"
    assert list(outcomes.values()).count("refused") >= 14


RAW = {name: json.dumps(body).encode() for name, body in {
    "good": {**GOOD, "tenant_id": "ten_1"},
    "with subscription": {**GOOD, "tenant_id": "ten_1", "subscription": "sub_9"},
    "no tenant": GOOD,
    "bad tenant": {**GOOD, "tenant_id": "ten 1"},
    "extra field": {**GOOD, "tenant_id": "ten_1", "unit": "kWh"},
    "bad timestamp": {**GOOD, "tenant_id": "ten_1", "timestamp": "2026-13-01T00:00:00Z"},
    "not an object": ["ten_1"],
}.items()} | {"not json": b"kwh=5"}


def raw_outcome(read, body: bytes):
    try:
        parsed = read(body)
    except ValidationError as exc:
        return "refused", [(e["loc"], e["msg"]) for e in exc.errors()]  # the dead letter's detail: field and message
    get = parsed.get if isinstance(parsed, dict) else lambda name, default=None: getattr(parsed, name, default)
    return "accepted", [get(name, {} if name == "properties" else None) for name in
                        ("tenant_id", "event_id", "customer", "metric", "timestamp", "properties", "subscription")]


@pytest.mark.parametrize("name", RAW)
def test_raw_rows_and_model_agree(name):
    assert raw_outcome(RAW_USAGE_ROW.validate_json, RAW[name]) == raw_outcome(RawUsageIn.model_validate_json, RAW[name])
