"""Re-rating a billed period from the raw usage log: it reproduces the invoice's lines to the cent, gives the same
answer every time, and names the difference when the log holds an event the billing did not see."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from services.billing_factory.adapters.tables import subscriptions
import orjson

from services.billing_factory.app.rerating import USAGE_LOG_BATCHES, bucket_events, pack_logged_messages
from tests.support.cycle import bill_new_customer, ok, wait_for


def test_rerating_from_the_log_matches_the_invoice_and_finds_what_the_billing_missed(embedded):
    platform, client = embedded
    customer, invoice = bill_new_customer(client)  # 49.00 fee + 30 calls at 0.05
    with platform.billing.engine.connect() as conn:
        sub = {"id": conn.execute(select(subscriptions.c.id).where(subscriptions.c.customer_id == customer["id"])).scalar_one()}
    start = datetime.fromisoformat(invoice["period_start"]).replace(tzinfo=timezone.utc)
    def logged() -> list[dict]:
        return [e for b in platform.billing.docstore.find(USAGE_LOG_BATCHES, {"subscription_ids": sub["id"]}) for e in bucket_events(b)
                if e["subscription_id"] == sub["id"]]

    wait_for(lambda: len(logged()) == 30, "the raw usage log")

    first = ok(client.post(f"/v1/subscriptions/{sub['id']}/rerate", json={"period_start": start.isoformat()}))
    assert (first["events_in_log"], first["matches"], first["difference_minor"]) == (30, True, 0)
    assert first["rerated_net_minor"] == first["billed_net_minor"] == invoice["net_minor"] == 5050
    assert ok(client.post(f"/v1/subscriptions/{sub['id']}/rerate", json={"period_start": start.isoformat()})) == first

    batch = platform.billing.docstore.find(USAGE_LOG_BATCHES, {"subscription_ids": sub["id"]}, limit=1)[0]
    extra = {**logged()[0], "event_id": "only-in-the-log"}
    offset = extra.pop("offset")
    platform.billing.docstore.insert_many_ignoring_duplicates(USAGE_LOG_BATCHES, [
        {**batch, "first_event_id": "only-in-the-log", "last_event_id": "only-in-the-log", "event_count": 1,
         "messages_zst": pack_logged_messages([(offset, orjson.dumps([extra]))])}])
    second = ok(client.post(f"/v1/subscriptions/{sub['id']}/rerate", json={"period_start": start.isoformat()}))
    assert (second["events_in_log"], second["matches"], second["difference_minor"]) == (31, False, 5)
    assert [(d["billed_minor"], d["rerated_minor"]) for d in second["differences"]] == [(150, 155)]

    assert client.post(f"/v1/subscriptions/{sub['id']}/rerate", json={"period_start": "2020-01-01T00:00:00+00:00"}).status_code == 404
    assert client.post(f"/v1/subscriptions/{sub['id']}/rerate", json={"period_start": "2020-01-01T00:00:00"}).status_code == 422
