"""Invoices go out by e-mail to customers who asked for it, through a real SMTP server, once, with the
archived PDF and XML attached; customers who did not ask get nothing."""

import email
import socket

import pytest
from aiosmtpd.controller import Controller
from starlette.testclient import TestClient

from cloudbill.embedded import build_platform, ensure_demo_tenant
from tests.support.cycle import ok, wait_for


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_invoice_is_mailed_once_with_pdf_and_xml(tmp_path, smtp):
    inbox, port = smtp
    platform = build_platform(tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False, smtp_from="rechnung@demo.example")
    key = ensure_demo_tenant(platform, tmp_path)
    with TestClient(platform.app) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        for ext, mail_it in (("mail-me", True), ("no-mail", False)):
            ok(client.post("/v1/customers", json={"external_id": ext, "name": f"{ext} GmbH", "street": "Weg 1", "postcode": "12345",
                                                  "city": "Stadt", "email": f"{ext}@kunde.example", "email_invoices": mail_it}), 201)
        ok(client.post("/v1/plans", json={"code": "fee", "name": "Fee", "charges": [{"code": "f", "name": "Grundgebühr", "model": "flat_fee", "amount": "10.00"}]}), 201)
        for ext in ("mail-me", "no-mail"):
            ok(client.post("/v1/subscriptions", json={"customer": ext, "plan": "fee", "started_at": "2026-10-01T00:00:00Z"}), 201)
        ok(client.post("/v1/billing-runs", json={"as_of": "2026-11-01T00:00:00Z"}), 201)
        wait_for(lambda: len(inbox.messages) >= 1, "the invoice e-mail", timeout=30)
        invoices = wait_for(lambda: [i for i in ok(client.get("/v1/invoices")) if i["archived"]] if len(ok(client.get("/v1/invoices"))) == 2 else None, "both invoices")
        pdf_of = {i["number"]: client.get(f"/v1/invoices/{i['id']}/pdf").content for i in invoices}
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["mail-me@kunde.example"] and message["From"] == "rechnung@demo.example"
    number = message["Subject"].split()[1]
    attachments = {part.get_filename(): part.get_payload(decode=True) for part in message.walk() if part.get_filename()}
    assert attachments[f"{number}.pdf"] == pdf_of[number]  # exactly the archived bytes
    assert b"CrossIndustryInvoice" in attachments[f"{number}.xml"]


class BouncingInbox(Inbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("bounce"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_refused_address_does_not_hold_back_the_other_invoices(tmp_path):
    inbox = BouncingInbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        platform = build_platform(tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False, smtp_from="rechnung@demo.example")
        key = ensure_demo_tenant(platform, tmp_path)
        with TestClient(platform.app) as client:
            client.headers["Authorization"] = f"Bearer {key}"
            ok(client.post("/v1/plans", json={"code": "fee", "name": "Fee", "charges": [{"code": "f", "name": "Grundgebühr", "model": "flat_fee", "amount": "10.00"}]}), 201)
            for ext in ("bounce", "good-1", "good-2"):  # the bouncing customer's invoice is the oldest
                ok(client.post("/v1/customers", json={"external_id": ext, "name": f"{ext} GmbH", "street": "Weg 1", "postcode": "12345",
                                                      "city": "Stadt", "email": f"{ext}@kunde.example", "email_invoices": True}), 201)
                ok(client.post("/v1/subscriptions", json={"customer": ext, "plan": "fee", "started_at": "2026-10-01T00:00:00Z"}), 201)
            ok(client.post("/v1/billing-runs", json={"as_of": "2026-11-01T00:00:00Z"}), 201)
            wait_for(lambda: len(inbox.messages) >= 2, "the two deliverable e-mails", timeout=15)
            run = ok(client.get("/v1/invoice-runs"))[0]
    finally:
        controller.stop()
    assert sorted(r for rcpts, _ in inbox.messages for r in rcpts) == ["good-1@kunde.example", "good-2@kunde.example"]
    assert (run["to_email"], run["emailed"], run["stage"]) == (3, 2, "dispatching")
