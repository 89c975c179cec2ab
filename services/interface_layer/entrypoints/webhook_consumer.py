"""Consumer that turns the platform's public events into queued webhook deliveries.

It reads the factories' event topics in its own consumer group; the
envelope id is the event id receivers deduplicate on, and the queue's
unique (endpoint, event) makes a redelivered batch queue nothing twice.
"""

from __future__ import annotations

from typing import Callable

from libs.contracts import decode_batch
from libs.platform.bus.port import Message
from services.interface_layer.app.webhooks import PUBLIC_EVENTS, enqueue
from services.interface_layer.domain.webhooks import event_type

GROUP = "cloudbill-edge-webhooks"


def make_webhook_handler(engine, wake: Callable[[], None]) -> Callable[[list[Message]], None]:
    def handle(messages: list[Message]) -> None:
        events = []
        for env, body in decode_batch(messages):
            kind = event_type(env.type)
            if kind in PUBLIC_EVENTS:
                events.append((env.tenant_id, env.id, kind, body.model_dump(mode="json")))
        if events and enqueue(engine, events):
            wake()

    return handle
