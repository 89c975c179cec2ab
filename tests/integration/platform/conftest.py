import pytest
from starlette.testclient import TestClient

from cloudbill.embedded import build_platform, ensure_demo_tenant
from tests.support.processes import SEPA_CREDITOR


@pytest.fixture
def embedded(tmp_path, monkeypatch):
    """A fresh embedded platform (its own SQLite files) and a client with the demo tenant's key; webhooks retried fast."""
    monkeypatch.setenv("CLOUDBILL_EDGE_WEBHOOK_RETRY_BASE_SECONDS", "0.2")
    monkeypatch.setenv("CLOUDBILL_EDGE_WEBHOOK_POLL_SECONDS", "0.1")
    for name, value in SEPA_CREDITOR.items():  # the tenant's own bank account: refunds and partner payouts leave from it
        monkeypatch.setenv(name, value)
    platform = build_platform(tmp_path)
    key = ensure_demo_tenant(platform, tmp_path)
    with TestClient(platform.app, base_url="http://testserver") as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield platform, client
