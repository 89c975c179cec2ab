"""Through the edge: a revoked API key stops at once (the key cache), and a forwarded change still leaves its audit record."""

import logging
import time

import pytest


def test_api_key_revoked_through_the_api_is_refused_on_the_next_request(embedded):
    platform, client = embedded
    created = client.post("/v1/api-keys", json={"name": "meter"})
    assert created.status_code == 201, created.text
    device = {"Authorization": f"Bearer {created.json()['api_key']}"}
    assert client.get("/v1/customers", headers=device).status_code == 200  # verified, so now cached
    assert client.get("/v1/customers", headers=device).status_code == 200
    assert client.delete(f"/v1/api-keys/{created.json()['id']}").status_code == 204
    refused = client.get("/v1/customers", headers=device)
    assert refused.status_code == 401, refused.text
    assert client.post("/v1/customers", json={"external_id": "x", "name": "X"}, headers=device).status_code == 401
    assert client.get("/v1/customers").status_code == 200  # the tenant's own key is untouched


def audit_details(platform, tenant_id: str, within: float = 5.0) -> list[dict]:
    """The tenant's request records once the edge's shipper has moved its spool into the document store."""
    deadline = time.monotonic() + within
    while True:
        records = platform.edge.docstore.find("audit_log", {"tenant_id": tenant_id, "action": "request"})
        if records or time.monotonic() > deadline:
            return [r["detail"] for r in records]
        time.sleep(0.05)


def test_audit_record_is_written_for_a_forwarded_post(embedded):
    platform, client = embedded
    me = client.get("/v1/tenants/me").json()
    created = client.post("/v1/customers", json={"external_id": "audited-1", "name": "Audited"})
    assert created.status_code == 201, created.text
    assert {"method": "POST", "path": "/v1/customers"} in audit_details(platform, me["id"])  # shipped by the running worker


def test_audit_record_is_written_even_when_the_factory_refuses(embedded):
    platform, client = embedded
    me = client.get("/v1/tenants/me").json()
    refused = client.post("/v1/customers", json={"name": "no external id"})
    assert refused.status_code == 422
    assert audit_details(platform, me["id"]) == [{"method": "POST", "path": "/v1/customers"}]


def test_a_document_store_outage_fails_no_request_and_loses_no_record(embedded, monkeypatch):
    platform, client = embedded
    me = client.get("/v1/tenants/me").json()
    real = platform.edge.docstore.insert_many_ignoring_duplicates

    def down(*args, **kwargs):
        raise ConnectionError("document store down")

    monkeypatch.setattr(platform.edge.docstore, "insert_many_ignoring_duplicates", down)
    created = client.post("/v1/customers", json={"external_id": "kept", "name": "Kept"})
    assert created.status_code == 201, created.text
    assert platform.edge.audit_trail.pending_bytes() > 0
    monkeypatch.setattr(platform.edge.docstore, "insert_many_ignoring_duplicates", real)
    assert audit_details(platform, me["id"], within=15) == [{"method": "POST", "path": "/v1/customers"}]  # the worker backs off, then ships


def test_a_change_the_audit_trail_cannot_take_is_refused_and_not_made(embedded, monkeypatch, caplog):
    platform, client = embedded

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(platform.edge.audit_trail, "append", full_disk)
    with caplog.at_level(logging.ERROR), pytest.raises(OSError):  # the test client re-raises what became a 500
        client.post("/v1/customers", json={"external_id": "lost", "name": "Lost"})
    assert any("audit record not stored" in r.getMessage() and "/v1/customers" in r.getMessage() for r in caplog.records)
    monkeypatch.undo()
    assert client.get("/v1/customers/lost").status_code == 404  # the factory never saw it
