"""Faults in the servers themselves, injected mid-stream on the real ones: the Kafka broker restarted, then
PostgreSQL restarted. Clients retry what was not acknowledged (as they must); afterwards every acknowledged
event is counted exactly once, and a device's authorization retried across the restart is held once."""

import os
import subprocess
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from tests.support.cycle import ok, wait_for

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
CUSTOMERS, BATCHES, PER_BATCH = 4, 24, 50


def restart(server: str) -> None:
    env = {**os.environ, "CLOUDBILL_STATE_DIR": os.environ.get("CLOUDBILL_STATE_DIR", str(REPO / ".state/infra"))}
    subprocess.run(["bash", str(REPO / "deploy/local/stack.sh"), "restart", server], check=True, env=env, timeout=180)


def retried(send, expected: int, what: str, deadline: float) -> None:
    """Call `send` until it answers `expected`: 5xx and dropped connections (a server restarting) are retried, as a
    client must; any other answer fails the test."""
    while True:
        try:
            response = send()
            if response.status_code == expected:
                return
            assert response.status_code >= 500, response.text  # only unavailability may be retried
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} was not answered within the deadline")
        time.sleep(0.5)


def deliver(client, events: list[dict], deadline: float) -> None:
    """Send one usage batch until the platform acknowledges it (202)."""
    retried(lambda: client.post("/v1/usage/batch", json={"events": events}), 202, "a usage batch", deadline)


def authorize(client, customer_id: str, key: str, deadline: float) -> None:
    """A device's authorization of 1.50 EUR, retried with the same key until answered (201)."""
    retried(lambda: client.post(f"/v1/wallets/{customer_id}/authorizations", json={"amount": "1.50", "currency": "EUR"},
                                headers={"Idempotency-Key": key}), 201, "an authorization", deadline)


@pytest.mark.parametrize("server", ["kafka", "postgres"])
def test_a_server_restarted_mid_stream_loses_and_doubles_nothing(cluster, tenant_client, server):
    c = tenant_client
    suffix = uuid.uuid4().hex[:6]
    ok(c.post("/v1/metrics", json={"code": f"kwh_{suffix}", "name": "kWh"}), 201)
    ok(c.post("/v1/plans", json={"code": f"p-{suffix}", "name": "P", "charges": [
        {"code": "kwh", "name": "kWh", "model": "per_unit", "metric": f"kwh_{suffix}", "unit_price": "0.30"}]}), 201)
    customers = []
    for i in range(CUSTOMERS):
        customer = ok(c.post("/v1/customers", json={"external_id": f"r-{suffix}-{i}", "name": f"Zähler {i}", "street": "Weg 1",
                                                    "postcode": "10115", "city": "Berlin"}), 201)
        ok(c.post("/v1/subscriptions", json={"customer": customer["external_id"], "plan": f"p-{suffix}",
                                             "started_at": "2026-11-01T00:00:00Z"}), 201)
        customers.append(customer)
    now = datetime.now(timezone.utc).isoformat()
    batches = [[{"event_id": f"{suffix}-{b}-{n}", "customer": customers[b % CUSTOMERS]["external_id"], "metric": f"kwh_{suffix}",
                 "timestamp": now} for n in range(PER_BATCH)] for b in range(BATCHES)]
    deadline = time.monotonic() + 240
    sent = threading.Event()

    def stream() -> None:
        for b, events in enumerate(batches):
            deliver(c, events, deadline)
            if b == BATCHES // 3:
                sent.set()  # a third is in: now the server goes down

    device = customers[0]["id"]
    ok(c.post(f"/v1/accounts/{device}/wallet/top-ups", json={"amount": "10.00", "currency": "EUR"}, headers={"Idempotency-Key": f"top-{suffix}"}), 201)
    authorize(c, device, f"before-{suffix}", deadline)  # the payment factory's async connections are open and in use

    sender = threading.Thread(target=stream)
    sender.start()
    assert sent.wait(120)
    restart(server)
    authorize(c, device, f"after-{suffix}", deadline)  # retried with its key until answered, as a device does
    sender.join(300)
    assert not sender.is_alive()
    wallet = ok(c.get(f"/v1/wallets/{device}"))
    assert (wallet["held_minor"], wallet["available_minor"], wallet["open_authorizations"]) == (300, 700, 2)  # each once

    expected = [BATCHES // CUSTOMERS * PER_BATCH] * CUSTOMERS

    def counted() -> list[int] | None:
        try:
            return [ok(c.get(f"/v1/customers/{cu['id']}/usage-summary"))["events"] for cu in customers]
        except AssertionError:
            return None  # a service still reconnecting

    totals = wait_for(lambda: (t := counted()) == expected and t, f"every event after the {server} restart", timeout=180)
    time.sleep(3)
    assert counted() == totals == expected  # and nothing redelivered counted twice afterwards
