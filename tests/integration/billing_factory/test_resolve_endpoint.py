"""The billing factory's internal usage-resolve endpoint (asked by the edge once per REST usage batch), on SQLite and on
PostgreSQL: its answers, a conflicting duplicate found, and the problems it gives for bad bodies, which it parses itself
from the bytes."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from libs.platform.bus.inprocess import InProcessBus
from services.billing_factory.adapters.usage_rows import insert_new_usage
from services.billing_factory.app import catalog, customers
from services.billing_factory.bootstrap import build
from services.billing_factory.entrypoints import schemas
from services.billing_factory.entrypoints.http import create_app
from services.billing_factory.settings import BillingSettings
from tests.support.pg import require

T, TOKEN = "tenant-r", "internal-test-token"
H = {"X-Cloudbill-Internal-Token": TOKEN, "X-Cloudbill-Tenant": T, "content-type": "application/json"}  # as the edge sends it


@pytest.fixture(params=["sqlite", "postgres"])
def container(request, tmp_path):
    schema = None
    if request.param == "postgres":
        require("CLOUDBILL_PG_URL")
        schema = f"resolve_{uuid.uuid4().hex[:8]}"
        settings = BillingSettings(data_dir=tmp_path, internal_token=TOKEN, database_url=os.environ["CLOUDBILL_PG_URL"],
                                   database_schema=schema)
    else:
        settings = BillingSettings(data_dir=tmp_path, internal_token=TOKEN)
    made = build(settings, bus=InProcessBus())
    yield made
    if schema:
        with made.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    made.close()


def test_resolve_answers_targets_and_refuses_bad_bodies_with_field_named_problems(container):
    eng = container.engine
    catalog.create_metric(eng, T, schemas.MetricIn(code="kwh", name="kWh", aggregation="count").model_dump())
    catalog.create_plan(eng, T, schemas.PlanIn(code="p", name="P", charges=[
        {"code": "e", "name": "Strom", "model": "per_unit", "metric": "kwh", "unit_price": "0.30"}]).model_dump(mode="json"))
    customers.create_customer(eng, T, schemas.CustomerIn(external_id="m-1", name="Zähler").model_dump())
    sub = catalog.create_subscription(eng, T, "m-1", "p", datetime(2026, 1, 1, tzinfo=timezone.utc), None)
    at = datetime(2026, 2, 1, tzinfo=timezone.utc)
    with eng.begin() as conn:
        insert_new_usage(conn, [{"tenant_id": T, "event_id": f"e{i}", "subscription_id": sub["id"], "metric_code": "kwh", "ts": at,
                                 "properties": {}, "payload_hash": f"h{i}", "received_at": at} for i in (1, 2)])
    with TestClient(create_app(container)) as client:
        ok = client.post("/internal/usage/resolve", headers=H, content=b'{"items": [{"customer": "m-1", "metric": "kwh"},'
                         b' {"customer": "nobody", "metric": "kwh"}], "event_ids": ["e1", "e2", "e3"], "payload_hashes": ["h1", "changed", "h3"]}')
        assert ok.status_code == 200, ok.text
        results = ok.json()["results"]
        assert results[0]["subscription_id"] == sub["id"] and results[0]["error"] is None
        assert (results[1]["error_field"], ok.json()["conflicts"]) == ("customer", ["e2"])  # e1 a plain repeat, e3 new

        wrong_type = client.post("/internal/usage/resolve", headers=H, content=b'{"items": [{"customer": 5, "metric": "kwh"}]}')
        assert wrong_type.status_code == 422
        assert wrong_type.headers["content-type"].startswith("application/problem+json")
        assert "items.0.customer" in [e["field"] for e in wrong_type.json()["errors"]], wrong_type.text

        assert client.post("/internal/usage/resolve", headers=H, content=b'{"items": [').status_code == 400  # not JSON: malformed
        unpaired = client.post("/internal/usage/resolve", headers=H, content=b'{"items": [], "event_ids": ["e1"], "payload_hashes": []}')
        assert (unpaired.status_code, unpaired.json()["detail"]) == (422, "one payload hash per event id")
        assert client.post("/internal/usage/resolve", headers={**H, "X-Cloudbill-Internal-Token": "wrong"}, content=b"{}").status_code == 401
