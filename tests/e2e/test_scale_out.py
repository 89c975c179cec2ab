"""Two billing factory processes in one consumer group share the usage partitions; when one is SIGKILLed
mid-stream the other takes over its partitions, and every event is counted exactly once."""

import dataclasses
import re
import signal
import threading
import uuid
from datetime import datetime, timezone

import pytest

from tests.support.cycle import ok, wait_for
from tests.support.processes import free_port

pytestmark = pytest.mark.e2e
CUSTOMERS, EVENTS_PER_CUSTOMER = 8, 500


def usage_partitions(log: str, group: str) -> set[str]:
    """The usage partitions of the latest assignment in a service log."""
    found = re.findall(rf"partitions assigned group={re.escape(group)} partitions=([^\s\"]*)", log)
    return {p for p in found[-1].split(",") if ".usage" in p} if found else set()


def test_two_consumers_share_partitions_and_one_takes_over_when_the_other_dies(cluster, tenant_client):
    c = tenant_client
    first = cluster.services["billing_factory"]
    group = first.env["CLOUDBILL_BILLING_KAFKA_GROUP"]
    port = free_port()
    second = dataclasses.replace(first, port=port, env={**first.env, "CLOUDBILL_BILLING_PORT": str(port)},
                                 log_path=first.log_path.with_name("billing_factory_2.log"), proc=None)
    second.start()
    second.wait_ready()
    wait_for(lambda: usage_partitions(second.log_tail(400), group) and usage_partitions(first.log_tail(400), group)
             and len(usage_partitions(first.log_tail(400), group) | usage_partitions(second.log_tail(400), group)) == 4,
             "both consumers to own usage partitions", timeout=60)
    shared = (usage_partitions(first.log_tail(400), group), usage_partitions(second.log_tail(400), group))
    assert not shared[0] & shared[1]

    suffix = uuid.uuid4().hex[:6]
    ok(c.post("/v1/metrics", json={"code": f"kwh_{suffix}", "name": "kWh", "aggregation": "count"}), 201)
    ok(c.post("/v1/plans", json={"code": f"meter-{suffix}", "name": "Meter", "charges": [
        {"code": "kwh", "name": "Strom", "model": "per_unit", "metric": f"kwh_{suffix}", "unit_price": "0.30"}]}), 201)
    customers = []
    for i in range(CUSTOMERS):
        customer = ok(c.post("/v1/customers", json={"external_id": f"m-{suffix}-{i}", "name": f"Meter {i}", "street": "Weg 1",
                                                    "postcode": "10115", "city": "Berlin"}), 201)
        ok(c.post("/v1/subscriptions", json={"customer": customer["external_id"], "plan": f"meter-{suffix}",
                                             "started_at": "2026-11-01T00:00:00Z"}), 201)
        customers.append(customer)

    def send(half: int) -> None:
        now = datetime.now(timezone.utc).isoformat()
        for customer in customers:
            events = [{"event_id": f"{customer['external_id']}-{half}-{n}", "customer": customer["external_id"],
                       "metric": f"kwh_{suffix}", "timestamp": now} for n in range(EVENTS_PER_CUSTOMER // 2)]
            ok(c.post("/v1/usage/batch", json={"events": events}), 202)

    def counted() -> list[int]:
        return [ok(c.get(f"/v1/customers/{cu['id']}/usage-summary"))["events"] for cu in customers]

    send(0)
    sender = threading.Thread(target=send, args=(1,))
    sender.start()
    second.kill(signal.SIGKILL)  # while the second half streams in
    sender.join()
    wait_for(lambda: usage_partitions(first.log_tail(400), group) == shared[0] | shared[1], "the survivor to take all partitions",
             timeout=60)
    totals = wait_for(lambda: (t := counted()) == [EVENTS_PER_CUSTOMER] * CUSTOMERS and t, "every event counted", timeout=90)
    assert totals == [EVENTS_PER_CUSTOMER] * CUSTOMERS
    assert counted() == totals  # and no redelivered batch counted twice afterwards
