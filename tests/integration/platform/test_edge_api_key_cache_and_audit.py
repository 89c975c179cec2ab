"""Through the edge: a revoked API key stops at once (the key cache), and a forwarded change still leaves its audit record."""

import logging

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


def test_audit_record_is_written_for_a_forwarded_post(embedded):
    platform, client = embedded
    me = client.get("/v1/tenants/me").json()
    created = client.post("/v1/customers", json={"external_id": "audited-1", "name": "Audited"})
    assert created.status_code == 201, created.text
    records = platform.edge.docstore.find("audit_log", {"tenant_id": me["id"], "action": "request"})
    assert {"method": "POST", "path": "/v1/customers"} in [r["detail"] for r in records]


def test_audit_record_is_written_even_when_the_factory_refuses(embedded):
    platform, client = embedded
    me = client.get("/v1/tenants/me").json()
    refused = client.post("/v1/customers", json={"name": "no external id"})
    assert refused.status_code == 422
    records = platform.edge.docstore.find("audit_log", {"tenant_id": me["id"], "action": "request"})
    assert [r["detail"] for r in records] == [{"method": "POST", "path": "/v1/customers"}]


def test_audit_failure_is_not_hidden_and_the_record_is_logged(embedded, monkeypatch, caplog):
    platform, client = embedded

    def broken(*args, **kwargs):
        raise RuntimeError("document store down")

    monkeypatch.setattr(platform.edge.docstore, "insert_one", broken)
    with caplog.at_level(logging.ERROR), pytest.raises(RuntimeError):  # the test client re-raises what became a 500
        client.post("/v1/customers", json={"external_id": "lost", "name": "Lost"})
    assert any("audit record not stored" in r.getMessage() and "/v1/customers" in r.getMessage() for r in caplog.records)
