"""The whole platform in one process: SQLite per service, in-process bus, embedded documents, local archive.

The four services are the same apps as in the distributed mode; only the
composition differs. The edge reaches the factories through in-process ASGI
transports instead of HTTP, and all share one in-process bus.
"""

from __future__ import annotations

import json
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from libs.platform.bus.inprocess import InProcessBus
from libs.platform.docstore import EmbeddedDocumentStore
from libs.platform.runtime import configure_logging
from services.billing_factory.bootstrap import build as build_billing
from services.billing_factory.entrypoints.http import create_app as billing_app
from services.billing_factory.settings import BillingSettings
from services.interface_layer.bootstrap import build as build_edge
from services.interface_layer.entrypoints.http import create_app as edge_app
from services.interface_layer.settings import EdgeSettings
from services.invoice_factory.bootstrap import build as build_invoice
from services.invoice_factory.entrypoints.http import create_app as invoice_app
from services.invoice_factory.settings import InvoiceSettings
from services.payment_factory.bootstrap import build as build_payment
from services.payment_factory.entrypoints.http import create_app as payment_app
from services.payment_factory.settings import PaymentSettings

DEMO_TENANT = "ten_demo"


@dataclass
class Platform:
    app: object
    edge: object
    billing: object
    invoice: object
    payment: object


def build_platform(data_dir: Path, port: int = 8000, internal_token: str = "embedded-internal-token", **invoice_settings) -> Platform:
    """invoice_settings: extra InvoiceSettings fields, e.g. smtp_host/smtp_port for e-mail dispatch."""
    data_dir.mkdir(parents=True, exist_ok=True)
    bus = InProcessBus()
    docs = EmbeddedDocumentStore(data_dir / "documents.sqlite3")
    common = {"mode": "embedded", "data_dir": data_dir, "internal_token": internal_token}
    billing = build_billing(BillingSettings(**common), bus=bus, docstore=docs)
    invoice = build_invoice(InvoiceSettings(**common, public_base_url=f"http://127.0.0.1:{port}", **invoice_settings), bus=bus, docstore=docs)
    payment = build_payment(PaymentSettings(**common), bus=bus, docstore=docs)
    apps = {"billing": billing_app(billing), "invoice": invoice_app(invoice), "payment": payment_app(payment)}
    edge = build_edge(EdgeSettings(**common, port=port), bus=bus, docstore=docs,
                      transports={name: httpx.ASGITransport(app=a) for name, a in apps.items()})
    app = edge_app(edge)
    edge_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a):
        async with AsyncExitStack() as stack:
            for factory_app in apps.values():
                await stack.enter_async_context(factory_app.router.lifespan_context(factory_app))
            await stack.enter_async_context(edge_lifespan(a))
            yield

    app.router.lifespan_context = lifespan
    return Platform(app, edge, billing, invoice, payment)


DEMO_SELLER = {
    "seller": {"name": "Demo Cloud GmbH", "street": "Musterstraße 42", "postcode": "10115", "city": "Berlin", "country": "DE",
               "vat_id": "DE123456789", "tax_number": "30/123/45678", "email": "billing@demo-cloud.example",
               "phone": "+49 30 1234567", "contact_name": "Erika Musterfrau", "commercial_register": "Amtsgericht Berlin-Charlottenburg HRB 123456",
               "managing_directors": "Max Mustermann"},
    "bank": {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "account_holder": "Demo Cloud GmbH", "bank_name": "Commerzbank"},
    "payment_terms_days": 14, "invoice_prefix": "RE-", "credit_note_prefix": "GS-",
}


def ensure_demo_tenant(platform: Platform, data_dir: Path) -> str:
    """Create the demo tenant once and remember its key in the data folder (keys are shown only at creation)."""
    key_file = data_dir / "demo-api-key.txt"
    if platform.edge.tenancy.get(DEMO_TENANT) is None:
        created = platform.edge.tenancy.create_tenant("Demo Cloud GmbH", tenant_id=DEMO_TENANT)
        key_file.write_text(created.api_key)
        key_file.chmod(0o600)
        from services.invoice_factory.app.settings_store import save_profile

        save_profile(platform.invoice.engine, DEMO_TENANT, DEMO_SELLER)
    return key_file.read_text().strip()


def serve(port: int, data_dir: Path) -> None:
    configure_logging("WARNING")
    platform = build_platform(data_dir, port)
    key = ensure_demo_tenant(platform, data_dir)
    base = f"http://127.0.0.1:{port}"
    print(json.dumps({"api": base, "docs": f"{base}/docs", "openapi": "openapi/ (one spec per service)",
                      "tenant": DEMO_TENANT, "api_key": key, "data_dir": str(data_dir)}, indent=2))
    print(f"\nTry:  export CLOUDBILL_URL={base} CLOUDBILL_API_KEY={key}\n      .venv/bin/cloudbill customers list\n", flush=True)
    uvicorn.run(platform.app, host="127.0.0.1", port=port, log_level="warning")
