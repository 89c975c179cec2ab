"""One contract, two document stores: the embedded twin must behave like the MongoDB-wire server."""

import uuid

import pytest

from libs.platform.docstore import DuplicateDocument, EmbeddedDocumentStore, MongoDocumentStore
from tests.integration.libs.conftest import require_env


@pytest.fixture(params=["embedded", "mongo"])
def store(request, tmp_path):
    if request.param == "embedded":
        return EmbeddedDocumentStore(tmp_path / "docs.sqlite3")
    return MongoDocumentStore(require_env("CLOUDBILL_MONGO_URL"), f"test_{uuid.uuid4().hex[:8]}")


def test_unique_index_refuses_duplicates_and_bulk_insert_skips_them(store):
    store.ensure_unique_index("events", ["tenant_id", "event_id"])
    store.insert_one("events", {"tenant_id": "t1", "event_id": "e1", "qty": 3})
    with pytest.raises(DuplicateDocument):
        store.insert_one("events", {"tenant_id": "t1", "event_id": "e1", "qty": 4})
    inserted = store.insert_many_ignoring_duplicates("events", [
        {"tenant_id": "t1", "event_id": "e1", "qty": 5},
        {"tenant_id": "t1", "event_id": "e2", "qty": 7},
        {"tenant_id": "t2", "event_id": "e1", "qty": 11},
    ])
    assert inserted == 2
    assert store.count("events", {"tenant_id": "t1"}) == 2


def test_find_filters_sorts_and_sums(store):
    store.insert_many_ignoring_duplicates("docs", [
        {"tenant_id": "t1", "kind": "invoice", "number": "R-2", "gross": 119},
        {"tenant_id": "t1", "kind": "invoice", "number": "R-1", "gross": 238},
        {"tenant_id": "t1", "kind": "credit", "number": "G-1", "gross": -119},
        {"tenant_id": "t2", "kind": "invoice", "number": "R-1", "gross": 1000},
    ])
    found = store.find("docs", {"tenant_id": "t1", "kind": "invoice"}, sort=[("number", 1)])
    assert [d["number"] for d in found] == ["R-1", "R-2"]
    assert "_id" not in found[0]
    assert store.find("docs", {"tenant_id": "t1", "gross": {"$gt": 0, "$lt": 200}})[0]["number"] == "R-2"
    assert store.sum_by("docs", {"tenant_id": "t1"}, "kind", "gross") == {"invoice": 357, "credit": -119}


def test_a_value_matches_an_array_that_holds_it(store):
    store.insert_many_ignoring_duplicates("batches", [
        {"tenant_id": "t1", "n": 1, "subs": ["s1", "s2"]}, {"tenant_id": "t1", "n": 2, "subs": ["s3"]}, {"tenant_id": "t1", "n": 3, "subs": "s2"}])
    assert sorted(d["n"] for d in store.find("batches", {"tenant_id": "t1", "subs": "s2"})) == [1, 3]
    assert store.find("batches", {"subs": "s4"}) == [] and [d["n"] for d in store.find("batches", {"subs": ["s3"]})] == [2]


def test_update_one_sets_fields(store):
    store.insert_one("docs", {"tenant_id": "t1", "number": "R-1", "status": "finalized"})
    assert store.update_one("docs", {"tenant_id": "t1", "number": "R-1"}, {"status": "paid"}) == 1
    assert store.find("docs", {"number": "R-1"})[0]["status"] == "paid"
    assert store.update_one("docs", {"tenant_id": "t2"}, {"status": "paid"}) == 0
