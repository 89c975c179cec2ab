"""Bus consumers of the payment factory: issued invoices become receivables."""

from __future__ import annotations

from libs.contracts import decode_batch
from libs.contracts.events import InvoiceIssued
from libs.platform.bus.port import Message
from services.payment_factory.app.receivables import post_invoice


def make_handler(container):
    def handle(messages: list[Message]) -> None:
        for env, body in decode_batch(messages):
            if isinstance(body, InvoiceIssued):
                post_invoice(container.engine, container.ledger, env, body)
        container.relay.wake()

    return handle
