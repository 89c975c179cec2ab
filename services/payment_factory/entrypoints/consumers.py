"""Bus consumers of the payment factory: issued invoices become receivables, prepaid usage is paid from wallets."""

from __future__ import annotations

from libs.contracts import decode_batch
from libs.contracts.events import InvoiceIssued, UsageCharged
from libs.platform.bus.port import Message
from services.payment_factory.app.prepaid import pay_usage
from services.payment_factory.app.receivables import post_invoice


def make_handler(container):
    def handle(messages: list[Message]) -> None:
        for env, body in decode_batch(messages):
            if isinstance(body, InvoiceIssued):
                post_invoice(container.engine, container.ledger, env, body)
            elif isinstance(body, UsageCharged):
                pay_usage(container.engine, container.ledger, env.tenant_id, body)
        container.relay.wake()

    return handle
