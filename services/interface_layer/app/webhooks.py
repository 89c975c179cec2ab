"""Outgoing webhooks: endpoints a tenant registers, deliveries queued from platform events, sent with retries.

A delivery row is queued in the same transaction that notes the event, one
per endpoint and event (a redelivered event queues nothing new). The
delivery worker sends the stored body (the bytes signed), marks it
delivered on a 2xx, and otherwise retries with exponential backoff until
MAX_ATTEMPTS, then marks it failed. Every attempt is logged in the document
store, where the tenant can read it.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timezone
from typing import Any, Callable

from sqlalchemy import Engine, select, update

from libs.ids import new_id
from libs.platform.docstore import DocumentStore
from libs.platform.inbox import insert_ignoring_duplicates
from services.interface_layer.adapters.tables import webhook_deliveries, webhook_endpoints
from services.interface_layer.domain.webhooks import MAX_ATTEMPTS, SIGNATURE_HEADER, retry_delay, signature, wants

LOG = "webhook_deliveries"
# The events a tenant may subscribe to; internal ones (invoice requests, usage) never leave the platform.
PUBLIC_EVENTS = ("invoice.issued", "invoice.paid", "payment.received", "billing.run.completed", "wallet.balance.alert",
                 "budget.threshold.crossed", "account.overdue")
Post = Callable[[str, bytes, dict[str, str]], int]  # url, body, headers -> HTTP status


def _now() -> datetime:
    return datetime.now(timezone.utc)


def register(engine: Engine, tenant_id: str, url: str, event_types: list[str]) -> dict[str, Any]:
    row = {"id": new_id("whe"), "tenant_id": tenant_id, "url": url, "secret": "whsec_" + secrets.token_urlsafe(32),
           "event_types": event_types, "active": True, "created_at": _now()}
    with engine.begin() as conn:
        conn.execute(webhook_endpoints.insert().values(**row))
    return row


def endpoints(engine: Engine, tenant_id: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(webhook_endpoints).where(webhook_endpoints.c.tenant_id == tenant_id, webhook_endpoints.c.active.is_(True))
                            .order_by(webhook_endpoints.c.created_at))
        return [{k: v for k, v in r._mapping.items() if k != "secret"} for r in rows]


def deactivate(engine: Engine, tenant_id: str, endpoint_id: str) -> bool:
    with engine.begin() as conn:
        return conn.execute(update(webhook_endpoints).where(webhook_endpoints.c.tenant_id == tenant_id, webhook_endpoints.c.id == endpoint_id,
                                                            webhook_endpoints.c.active.is_(True)).values(active=False)).rowcount == 1


def enqueue(engine: Engine, events: list[tuple[str, str, str, dict[str, Any]]]) -> int:
    """Queue (tenant_id, event_id, type, data) for every endpoint that wants it; returns how many were new."""
    tenants = {tenant for tenant, _, _, _ in events}
    with engine.begin() as conn:
        subscribed = conn.execute(select(webhook_endpoints.c.id, webhook_endpoints.c.tenant_id, webhook_endpoints.c.event_types)
                                  .where(webhook_endpoints.c.tenant_id.in_(tenants), webhook_endpoints.c.active.is_(True))).all()
        rows = []
        for tenant, event_id, kind, data in events:
            body = json.dumps({"id": event_id, "type": kind, "tenant_id": tenant, "data": data}, separators=(",", ":"), default=str)
            for endpoint in subscribed:
                if endpoint.tenant_id == tenant and wants(endpoint.event_types, kind):
                    rows.append({"id": new_id("whd"), "tenant_id": tenant, "endpoint_id": endpoint.id, "event_id": event_id,
                                 "event_type": kind, "body": body, "status": "pending", "attempts": 0, "next_attempt_at": _now(),
                                 "created_at": _now()})
        return len(insert_ignoring_duplicates(conn, webhook_deliveries, rows, ["endpoint_id", "event_id"]))


class WebhookSender:
    def __init__(self, engine: Engine, docstore: DocumentStore, post: Post, retry_base_seconds: float):
        self._engine, self._docs, self._post, self._base = engine, docstore, post, retry_base_seconds

    def deliver_next(self) -> bool:
        """Send one due delivery; False when none is due."""
        with self._engine.begin() as conn:
            stmt = (select(webhook_deliveries, webhook_endpoints.c.url, webhook_endpoints.c.secret)
                    .join(webhook_endpoints, webhook_endpoints.c.id == webhook_deliveries.c.endpoint_id)
                    .where(webhook_deliveries.c.status == "pending", webhook_deliveries.c.next_attempt_at <= _now())
                    .order_by(webhook_deliveries.c.next_attempt_at).limit(1))
            if conn.dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True, of=webhook_deliveries)
            row = conn.execute(stmt).first()
            if row is None:
                return False
            body, sent_at = row.body.encode(), int(_now().timestamp())
            headers = {"Content-Type": "application/json", "Cloudbill-Event-Id": row.event_id, "Cloudbill-Event-Type": row.event_type,
                       SIGNATURE_HEADER: signature(row.secret, sent_at, body)}
            try:
                status, error = self._post(row.url, body, headers), None
            except Exception as exc:  # the receiver's network problem is a failed attempt, not ours
                status, error = None, f"{type(exc).__name__}: {exc}"[:500]
            attempts = row.attempts + 1
            if status is not None and 200 <= status < 300:
                values = {"status": "delivered", "attempts": attempts, "delivered_at": _now(), "last_error": None}
            else:
                error = error or f"HTTP {status}"
                values = {"status": "failed" if attempts >= MAX_ATTEMPTS else "pending", "attempts": attempts, "last_error": error,
                          "next_attempt_at": _now() + retry_delay(attempts, self._base)}
            conn.execute(update(webhook_deliveries).where(webhook_deliveries.c.id == row.id).values(**values))
        self._docs.insert_one(LOG, {"tenant_id": row.tenant_id, "endpoint_id": row.endpoint_id, "delivery_id": row.id,
                                    "event_id": row.event_id, "event_type": row.event_type, "attempt": attempts, "http_status": status,
                                    "error": error, "at": _now().isoformat()})
        return True


def deliveries(engine: Engine, tenant_id: str, endpoint_id: str, limit: int = 100) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(webhook_deliveries).where(webhook_deliveries.c.tenant_id == tenant_id,
                                                             webhook_deliveries.c.endpoint_id == endpoint_id)
                            .order_by(webhook_deliveries.c.created_at.desc()).limit(limit))
        return [{k: v for k, v in r._mapping.items() if k != "body"} for r in rows]
