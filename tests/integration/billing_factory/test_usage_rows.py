"""Storing usage events once per (tenant, event id): `insert_new_usage` on the SQLite twin and the real PostgreSQL.

On PostgreSQL a batch of new events is COPYed; a batch with a stored event falls back, inside the same transaction,
to the insert that skips it. Whichever way a batch goes, the answer (the keys inserted) and the rows stored must be
the same: every value as sent, every key once, also when two writers race over the same keys.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from libs.platform.db import make_engine
from libs.platform.migrations import prepare_schema
from services.billing_factory.adapters.metadata import metadata
from services.billing_factory.adapters.tables import usage_events
from services.billing_factory.adapters.usage_rows import insert_new_usage
from services.billing_factory.bootstrap import MIGRATIONS
from tests.support.pg import drop_engine, fresh_engine

NOW = datetime(2026, 11, 24, 8, 30, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request, tmp_path):
    if request.param == "postgres":
        eng = fresh_engine(metadata, MIGRATIONS, "usagerows")
        yield eng
        drop_engine(eng)
    else:
        eng = make_engine(None, "billing", sqlite_dir=tmp_path)
        prepare_schema(eng, metadata, MIGRATIONS, "billing")
        yield eng
        eng.dispose()


def row(event_id: str, tenant: str = "ten_a", kwh: object = "0.5", sub: str = "sub_1") -> dict:
    return {"tenant_id": tenant, "event_id": event_id, "subscription_id": sub, "metric_code": "kwh",
            "ts": NOW - timedelta(minutes=len(event_id)), "properties": {"kwh": kwh, "note": "Zähler \"7\"\n"},
            "payload_hash": hashlib.sha256(f"{event_id}{kwh}".encode()).hexdigest(), "received_at": NOW, "billed_run_id": None}


def utc(moment: datetime) -> datetime:
    """SQLite hands back naive UTC, PostgreSQL the session's zone."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def stored(engine) -> dict[tuple[str, str], dict]:
    with engine.connect() as conn:
        found = conn.execute(select(usage_events)).mappings().all()
    return {(r["tenant_id"], r["event_id"]): dict(r) for r in found}


def insert(engine, rows: list[dict]) -> set[tuple[str, str]]:
    with engine.begin() as conn:
        return insert_new_usage(conn, rows)


def test_new_events_are_stored_with_every_value_as_sent(engine):
    rows = [row(f"e-{i}", tenant="ten_a" if i % 2 else "ten_b", sub=f"sub_{i % 3}") for i in range(50)]
    assert insert(engine, rows) == {(r["tenant_id"], r["event_id"]) for r in rows}
    found = stored(engine)
    assert len(found) == 50
    for r in rows:
        got = found[(r["tenant_id"], r["event_id"])]
        assert got["subscription_id"] == r["subscription_id"] and got["metric_code"] == "kwh" and got["payload_hash"] == r["payload_hash"]
        assert got["properties"] == r["properties"]
        assert utc(got["ts"]) == r["ts"] and utc(got["received_at"]) == NOW
        assert got["billed_run_id"] is None


def test_a_batch_with_stored_events_inserts_only_the_new_ones_and_keeps_the_stored_payload(engine):
    assert len(insert(engine, [row("a"), row("b")])) == 2
    again = [row("b", kwh="9.9"), row("c"), row("a"), row("d")]  # b with another payload: the first one stays
    assert insert(engine, again) == {("ten_a", "c"), ("ten_a", "d")}
    found = stored(engine)
    assert sorted(e for _t, e in found) == ["a", "b", "c", "d"]
    assert found[("ten_a", "b")]["properties"]["kwh"] == "0.5"
    assert insert(engine, [row("a"), row("d")]) == set()  # nothing new at all


def test_the_transaction_goes_on_after_a_batch_fell_back(engine):
    """The fallback must leave the caller's transaction usable: the consumer writes its outbox rows after it."""
    insert(engine, [row("x")])
    with engine.begin() as conn:
        assert insert_new_usage(conn, [row("y"), row("x")]) == {("ten_a", "y")}
        assert insert_new_usage(conn, [row("z")]) == {("ten_a", "z")}
        assert conn.execute(select(func.count()).select_from(usage_events)).scalar() == 3


def test_a_batch_whose_transaction_rolls_back_leaves_nothing(engine):
    with pytest.raises(RuntimeError), engine.begin() as conn:
        insert_new_usage(conn, [row("p"), row("q")])
        raise RuntimeError("the consumer crashed before its commit")
    assert stored(engine) == {}
    assert len(insert(engine, [row("p"), row("q")])) == 2


def test_an_integer_beyond_64_bits_in_properties_is_stored(engine):
    big = row("big", kwh=2 ** 70)
    assert insert(engine, [big, row("small")]) == {("ten_a", "big"), ("ten_a", "small")}
    assert stored(engine)[("ten_a", "big")]["properties"]["kwh"] == 2 ** 70


def test_two_consumers_writing_the_same_batches_at_once_store_each_event_once_and_report_it_new_once(engine):
    """As during a rebalance: the partition's new owner replays batches its old owner is still writing."""
    if engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers are proven on the real database")
    batches = [[row(f"r-{b}-{i}") for i in range(100)] for b in range(5)]
    answers: list[set] = [set(), set()]
    barrier = threading.Barrier(2, timeout=30)

    def consumer(n: int) -> None:
        for rows in batches:
            barrier.wait()
            answers[n] |= insert(engine, rows)

    threads = [threading.Thread(target=consumer, args=(n,)) for n in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert answers[0] | answers[1] == {(r["tenant_id"], r["event_id"]) for rows in batches for r in rows}
    assert not answers[0] & answers[1]
    with engine.connect() as conn:
        assert conn.execute(select(func.count(), func.count(usage_events.c.event_id.distinct()))).one() == (500, 500)
