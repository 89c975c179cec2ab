"""The CLI's catalog and subscription commands against a running embedded platform: each is one REST call."""

import json
import threading
import time

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from cloudbill.cli import app
from cloudbill.embedded import build_platform, ensure_demo_tenant
from tests.support.processes import free_port


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    data = tmp_path_factory.mktemp("cli")
    port = free_port()
    platform = build_platform(data, port)
    key = ensure_demo_tenant(platform, data)
    server = uvicorn.Server(uvicorn.Config(platform.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.started
    yield {"CLOUDBILL_URL": f"http://127.0.0.1:{port}", "CLOUDBILL_API_KEY": key}
    server.should_exit = True
    thread.join(10)


def cli(env, *args, code: int = 0):
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if code == 0 else result.output


def test_catalog_and_lifecycle_through_the_cli(api, tmp_path):
    with httpx.Client(base_url=api["CLOUDBILL_URL"], headers={"Authorization": f"Bearer {api['CLOUDBILL_API_KEY']}"}) as c:
        assert c.post("/v1/customers", json={"external_id": "cli-1", "name": "CLI GmbH"}).status_code == 201
    assert cli(api, "plans", "create-product", "storage", "Speicher")["code"] == "storage"
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"code": "cli", "name": "CLI", "charges": [
        {"code": "f", "name": "Fee", "model": "flat_fee", "amount": "30.00", "product": "storage"}]}))
    cli(api, "plans", "create", str(plan))
    sub = cli(api, "subscriptions", "create", "cli-1", "cli", "--start", "2026-09-01T00:00:00Z")
    assert cli(api, "plans", "create-coupon", "half", "Halber Preis", "--percentage", "50", "--periods", "1")["periods"] == 1
    cli(api, "subscriptions", "apply-coupon", sub["id"], "half", "--at", "2026-09-01T00:00:00Z")
    assert cli(api, "subscriptions", "grant-credit", sub["id"], "2.00")["remaining_minor"] == 200
    cli(api, "subscriptions", "order", sub["id"], "setup", "Einrichtung", "10.00", "--ordered-at", "2026-09-03T00:00:00Z")
    assert cli(api, "subscriptions", "pause", sub["id"], "--at", "2026-09-11T00:00:00Z")["status"] == "paused"
    assert cli(api, "subscriptions", "resume", sub["id"], "--at", "2026-09-21T00:00:00Z")["status"] == "active"
    preview = cli(api, "subscriptions", "preview", sub["id"], "--at", "2026-09-15T00:00:00Z")
    # fee 30.00 for 20 of 30 days = 20.00, order 10.00, coupon 50 % of the fee's 20.00 and the order's 10.00 = -15.00, credit -2.00
    assert preview["net_minor"] == 2000 + 1000 - 1500 - 200, preview["lines"]
    assert cli(api, "plans", "preview", "cli", "--currency", "EUR")["net_minor"] == 3000
    assert cli(api, "subscriptions", "cancel", sub["id"], "--at", "2026-09-05T00:00:00Z", "--at-period-end")["ends_at"].startswith("2026-10-01")
    assert "not-found" in cli(api, "subscriptions", "change-plan", sub["id"], "nope", "--at", "2026-09-20T00:00:00Z", code=1)  # the problem goes to stderr, exit 1
