"""Bus consumers of the invoice factory: invoice requests, completed billing runs, payments and partner statement requests."""

from __future__ import annotations

from typing import Callable

from libs.contracts import decode_batch
from libs.contracts.events import BillingRunCompleted, InvoiceRequested, PartnerStatementRequested, PaymentReceived
from libs.platform.bus.port import Message
from libs.platform.faults import crash_point
from services.invoice_factory.app.invoice_runs import record_run_completed
from services.invoice_factory.app.issuing import issue_invoice
from services.invoice_factory.app.payments import apply_payment
from services.invoice_factory.app.self_billing import issue_requested_statement


def make_handler(container) -> Callable[[list[Message]], None]:
    def handle(messages: list[Message]) -> None:
        for env, body in decode_batch(messages):
            if isinstance(body, InvoiceRequested):
                issue_invoice(container.engine, env, body, container.clock.now().date())
                crash_point(container.settings.crash_at, "invoice-after-db-commit")
                container.wake_archiver()
            elif isinstance(body, BillingRunCompleted):
                record_run_completed(container.engine, env, body)
            elif isinstance(body, PaymentReceived):
                apply_payment(container.engine, env, body)
            elif isinstance(body, PartnerStatementRequested):
                if issue_requested_statement(container.engine, env, body, container.clock.now().date()):
                    container.wake_archiver()

    return handle
