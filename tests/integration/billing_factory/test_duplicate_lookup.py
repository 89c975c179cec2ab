"""The REST path's conflicting-duplicate check on PostgreSQL: right answers, and one lookup per id on the unique
(tenant, event id) key even while the planner's statistics do not know the tenant yet (its usage arrived after the
last ANALYZE), which is exactly when a new tenant streams its first millions of events."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import event, text

from services.billing_factory.adapters.metadata import metadata
from services.billing_factory.adapters.usage_rows import insert_new_usage
from services.billing_factory.app.usage_targets import conflicting_duplicates
from services.billing_factory.bootstrap import MIGRATIONS
from tests.support.pg import drop_engine, fresh_engine

NOW = datetime(2026, 11, 24, tzinfo=timezone.utc)


@pytest.fixture
def engine():
    eng = fresh_engine(metadata, MIGRATIONS, "duplookup")
    yield eng
    drop_engine(eng)


def rows(tenant: str, count: int) -> list[dict]:
    return [{"tenant_id": tenant, "event_id": f"e-{i}", "subscription_id": f"sub-{i % 50}", "metric_code": "kwh", "ts": NOW,
             "properties": {"kwh": "1"}, "payload_hash": f"h-{i}", "received_at": NOW} for i in range(count)]


def test_conflicts_are_found_by_one_unique_key_lookup_per_id_while_statistics_do_not_know_the_tenant(engine):
    schema = engine.get_execution_options()["schema_translate_map"][None]
    with engine.begin() as conn:
        insert_new_usage(conn, rows("ten_known", 20_000))
        conn.execute(text(f'ANALYZE "{schema}".usage_events'))
        insert_new_usage(conn, rows("ten_new", 20_000))  # after the ANALYZE: the statistics know no row of this tenant

    plans: list[str] = []

    def explain_to_client(dbapi_conn, _record):  # the plan each statement really ran, sent back as a NOTICE
        dbapi_conn.add_notice_handler(lambda diagnostic: plans.append(diagnostic.message_primary or ""))
        with dbapi_conn.cursor() as cur:
            cur.execute("LOAD 'auto_explain'")
            cur.execute("SET auto_explain.log_min_duration = 0")
            cur.execute("SET auto_explain.log_level = notice")
        dbapi_conn.commit()

    engine.dispose()
    event.listen(engine, "connect", explain_to_client)
    wanted = {f"e-{i}": f"h-{i}" for i in range(0, 2000, 2)}  # recorded with the same fingerprints: plain repeats
    wanted |= {"e-1": "changed", "e-3": "h-3", "never-seen": "h-x"}
    assert conflicting_duplicates(engine, "ten_new", wanted) == {"e-1"}

    (plan,) = [p for p in plans if "usage_events" in p]
    assert "Index Scan using uq_usage_tenant_event" in plan and "Filter" not in plan, plan[:600]
