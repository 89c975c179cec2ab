"""Bus consumers of the payment factory: issued invoices become receivables (and partners' settled shares), prepaid usage is
paid from wallets, partners' master data is kept, issued self-billing statements (389) are recorded against their statement."""

from __future__ import annotations

from libs.contracts import decode_batch
from libs.contracts.events import InvoiceIssued, PartnerChanged, UsageCharged
from libs.platform.bus.port import Message
from services.payment_factory.app.partner_statements import statement_issued
from services.payment_factory.app.partners import upsert_partner
from services.payment_factory.app.prepaid import pay_usage
from services.payment_factory.app.receivables import post_invoice


def make_handler(container):
    def handle(messages: list[Message]) -> None:
        for env, body in decode_batch(messages):
            if isinstance(body, InvoiceIssued) and body.type_code == "389":
                if body.statement_id:
                    statement_issued(container.engine, container.ledger, env, body)
            elif isinstance(body, InvoiceIssued):
                post_invoice(container.engine, container.ledger, env, body)
            elif isinstance(body, UsageCharged):
                pay_usage(container.engine, container.ledger, env.tenant_id, body)
            elif isinstance(body, PartnerChanged):
                upsert_partner(container.engine, env.tenant_id, body, env.occurred_at)
        container.relay.wake()

    return handle
