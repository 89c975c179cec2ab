"""Every price model, billed in the embedded platform (SQLite): the real invoice matches the hand-computed
net and the upcoming-invoice preview to the cent. tests/e2e/test_price_models.py runs the same on PostgreSQL and Kafka."""

from starlette.testclient import TestClient

from cloudbill.embedded import build_platform, ensure_demo_tenant
from tests.support.price_models import bill_every_model


def test_every_price_model_on_a_real_invoice_agrees_with_the_preview(tmp_path):
    platform = build_platform(tmp_path)
    key = ensure_demo_tenant(platform, tmp_path)
    with TestClient(platform.app) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        bill_every_model(client)
