"""Bus consumers of the payment factory: issued invoices become receivables."""

from __future__ import annotations

import logging

from pydantic import ValidationError

from libs.contracts import decode
from libs.contracts.events import InvoiceIssued
from libs.platform.bus.port import Message
from services.payment_factory.app.receivables import post_invoice

log = logging.getLogger(__name__)


def make_handler(container):
    def handle(messages: list[Message]) -> None:
        for msg in messages:
            try:
                env, body = decode(msg.value)
            except (ValidationError, KeyError) as exc:
                log.error("skipping undecodable message at %s/%s: %s", msg.topic, msg.offset, exc)
                continue
            if isinstance(body, InvoiceIssued):
                post_invoice(container.engine, env, body)
        container.relay.wake()

    return handle
