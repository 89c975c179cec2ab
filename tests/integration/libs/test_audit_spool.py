"""The edge's audit spool on both document stores: a record appended is stored exactly once, whatever fails in between."""

import os
import uuid

import pytest

from libs.platform.docstore import EmbeddedDocumentStore, MongoDocumentStore
from services.interface_layer.adapters.audit_spool import COLLECTION, AuditSpool
from tests.integration.libs.conftest import require_env


@pytest.fixture(params=["embedded", "mongo"])
def store(request, tmp_path):
    if request.param == "embedded":
        return EmbeddedDocumentStore(tmp_path / "docs.sqlite3")
    return MongoDocumentStore(require_env("CLOUDBILL_MONGO_URL"), f"test_{uuid.uuid4().hex[:8]}")


def paths(store) -> list[str]:
    return sorted(r["detail"]["path"] for r in store.find(COLLECTION, {"tenant_id": "t1"}))


def test_appended_records_ship_once_in_order_of_batches(store, tmp_path):
    spool = AuditSpool(tmp_path / "spool", store, max_batch=3)
    for i in range(7):
        spool.append("t1", "request", {"method": "POST", "path": f"/v1/x/{i}"})
    assert paths(store) == []  # appended, not yet shipped
    assert spool.ship_next() is True
    assert paths(store) == [f"/v1/x/{i}" for i in range(3)]
    spool.flush()
    assert paths(store) == [f"/v1/x/{i}" for i in range(7)]
    assert spool.ship_next() is False and spool.pending_bytes() == 0
    spool.flush()
    assert len(paths(store)) == 7


def test_a_restart_ships_what_was_left_and_a_lost_offset_stores_nothing_twice(store, tmp_path):
    first = AuditSpool(tmp_path / "spool", store)
    for i in range(3):
        first.append("t1", "request", {"method": "POST", "path": f"/v1/a/{i}"})
    first.flush()
    first.append("t1", "request", {"method": "POST", "path": "/v1/a/3"})
    first.close()  # the process ends before shipping the last record
    (tmp_path / "spool" / "slot-0" / "audit.shipped").write_text("0")  # and as if its bookkeeping were lost too
    second = AuditSpool(tmp_path / "spool", store)
    second.flush()
    assert paths(store) == [f"/v1/a/{i}" for i in range(4)]


def test_a_document_store_outage_keeps_records_until_it_is_back(store, tmp_path, monkeypatch):
    spool = AuditSpool(tmp_path / "spool", store)
    spool.append("t1", "request", {"method": "POST", "path": "/v1/during-outage"})
    real = store.insert_many_ignoring_duplicates

    def down(*args, **kwargs):
        raise ConnectionError("document store down")

    monkeypatch.setattr(store, "insert_many_ignoring_duplicates", down)
    with pytest.raises(ConnectionError):
        spool.ship_next()
    assert spool.pending_bytes() > 0
    monkeypatch.setattr(store, "insert_many_ignoring_duplicates", real)
    spool.flush()
    assert paths(store) == ["/v1/during-outage"] and spool.pending_bytes() == 0


def test_a_drained_spool_is_truncated_and_appends_go_on(store, tmp_path):
    spool = AuditSpool(tmp_path / "spool", store, rotate_bytes=200)
    for i in range(5):
        spool.append("t1", "request", {"method": "POST", "path": f"/v1/r/{i}"})
    spool.flush()
    assert os.path.getsize(tmp_path / "spool" / "slot-0" / "audit.spool") == 0
    spool.append("t1", "request", {"method": "POST", "path": "/v1/r/5"})
    spool.flush()
    assert paths(store) == [f"/v1/r/{i}" for i in range(6)]


def test_two_processes_sharing_a_directory_take_their_own_slots(store, tmp_path):
    one, two = AuditSpool(tmp_path / "spool", store), AuditSpool(tmp_path / "spool", store)
    one.append("t1", "request", {"method": "POST", "path": "/v1/one"})
    two.append("t1", "request", {"method": "POST", "path": "/v1/two"})
    assert sorted(p.name for p in (tmp_path / "spool").iterdir()) == ["slot-0", "slot-1"]
    one.flush()
    two.flush()
    assert paths(store) == ["/v1/one", "/v1/two"]
    one.close()
    again = AuditSpool(tmp_path / "spool", store)  # a process started later takes the free slot
    again.append("t1", "request", {"method": "POST", "path": "/v1/again"})
    again.flush()
    assert (tmp_path / "spool" / "slot-0" / "audit.spool").read_bytes().count(b"/v1/again") == 1
