"""Pricing the open period after each usage batch (prepaid wallets, budgets) reuses the rows it read before, on PostgreSQL.

The preview a usage batch asks for must equal the preview read from scratch, whatever else happened meanwhile: usage
another consumer recorded, a late event for an earlier period, a repeated batch. And once a period is kept, a batch
must not read the whole period back (the point of keeping it).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event

from libs.contracts.usage_batch import pack
from libs.platform.bus.port import Message
from services.billing_factory.adapters.metadata import metadata
from services.billing_factory.app import catalog, customers, runs
from services.billing_factory.app.rating import OpenPeriodRows
from services.billing_factory.app.record_usage import record_usage
from services.billing_factory.bootstrap import MIGRATIONS
from services.billing_factory.entrypoints import schemas
from tests.support.pg import drop_engine, fresh_engine

TENANT = "ten_open"
NOW = datetime.now(timezone.utc)
START = NOW.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
PLAN = {"code": "strom", "name": "Strom", "currency": "EUR", "interval": "month", "charges": [
    {"code": "kwh", "name": "Arbeitspreis", "model": "graduated", "metric": "kwh",
     "tiers": [{"up_to": "10", "unit_price": "0.40"}, {"up_to": None, "unit_price": "0.30"}]}]}


@pytest.fixture
def engine():
    eng = fresh_engine(metadata, MIGRATIONS, "openperiod")
    yield eng
    drop_engine(eng)


@pytest.fixture
def sub_id(engine) -> str:
    catalog.create_metric(engine, TENANT, schemas.MetricIn(code="kwh", name="kWh", aggregation="sum", field="kwh").model_dump())
    catalog.create_plan(engine, TENANT, schemas.PlanIn(**PLAN).model_dump(mode="json"))
    customers.create_customer(engine, TENANT, schemas.CustomerIn(external_id="m-1", name="Haushalt").model_dump())
    return catalog.create_subscription(engine, TENANT, "m-1", "strom", START - timedelta(days=62), None)["id"]


def batch(sub_id: str, ids: list[str], at: datetime, kwh: str = "1.5") -> list[Message]:
    bodies = [(0, {"event_id": i, "subscription_id": sub_id, "customer_id": "cus", "metric_code": "kwh", "timestamp": at.isoformat(),
                   "properties": {"kwh": kwh}, "payload_hash": hashlib.sha256(i.encode()).hexdigest()}) for i in ids]
    return [Message("cloudbill.usage.v1", None, raw, 0, 0) for _partition, raw in pack(TENANT, bodies, NOW)]


def test_previews_from_kept_rows_equal_previews_read_from_scratch(engine, sub_id, monkeypatch):
    kept = OpenPeriodRows()
    monkeypatch.setattr(runs, "OPEN_PERIODS", kept)

    def recorded_and_previewed(messages):
        result = record_usage(engine, messages)
        incremental = runs.preview_subscription(engine, TENANT, sub_id, NOW, result.fresh.get((TENANT, sub_id), []))
        assert incremental == runs.preview_subscription(engine, TENANT, sub_id, NOW)
        return incremental

    assert recorded_and_previewed(batch(sub_id, ["a1", "a2"], NOW))["net_minor"] == 120  # 3 kWh at 0.40
    assert recorded_and_previewed(batch(sub_id, ["a3", "a4", "a5", "a6"], NOW))["net_minor"] == 360  # 9 kWh
    record_usage(engine, batch(sub_id, ["other-consumer"], NOW, "4"))  # recorded elsewhere: this process never saw it
    assert recorded_and_previewed(batch(sub_id, ["a7"], NOW))["net_minor"] == 400 + 135  # 14.5 kWh: 10 at 0.40, 4.5 at 0.30
    late = START - timedelta(days=3)  # the previous period's usage: not in the open period's rows
    assert recorded_and_previewed(batch(sub_id, ["late-1"], late) + batch(sub_id, ["a8"], NOW))["net_minor"] == 400 + 180
    assert recorded_and_previewed(batch(sub_id, ["a8", "a1"], NOW))["net_minor"] == 580  # a repeat inserts nothing


def test_a_kept_period_is_not_read_back_for_the_next_batch(engine, sub_id, monkeypatch):
    kept = OpenPeriodRows()
    monkeypatch.setattr(runs, "OPEN_PERIODS", kept)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda conn, cursor, sql, *args: statements.append(sql))

    def previewed(ids):
        result = record_usage(engine, batch(sub_id, ids, NOW))
        statements.clear()
        return runs.preview_subscription(engine, TENANT, sub_id, NOW, result.fresh[(TENANT, sub_id)])

    previewed([f"e{i}" for i in range(50)])
    whole_period = [s for s in statements if "usage_events.event_id" in s and "count(" not in s]
    assert len(whole_period) == 1, "the first batch reads the period once"
    assert previewed(["e50"])["net_minor"] == 400 + round(66.5 * 30)  # 76.5 kWh
    assert not [s for s in statements if "usage_events.event_id" in s and "count(" not in s], "the next batch adds only its rows"
