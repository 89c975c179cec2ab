"""`cloudbill`: run the platform, or use its REST API from a terminal.

Every API command is a thin wrapper over one REST call, so what the CLI can
do the API can do, and scripts may use either. Set CLOUDBILL_URL and
CLOUDBILL_API_KEY (the embedded run prints both).
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Optional

import httpx
import typer

app = typer.Typer(help="cloudbill: cloud billing platform", no_args_is_help=True)
customers = typer.Typer(help="Customers")
plans = typer.Typer(help="Plans and metrics")
subs = typer.Typer(help="Subscriptions")
usage = typer.Typer(help="Usage events")
runs = typer.Typer(help="Billing runs")
invoices = typer.Typer(help="Invoices")
payments = typer.Typer(help="Payments and accounts")
partners = typer.Typer(help="Partners, share rules, statements and payouts (revenue sharing)")
for sub, name in [(customers, "customers"), (plans, "plans"), (subs, "subscriptions"), (usage, "usage"), (runs, "billing-runs"), (invoices, "invoices"),
                  (payments, "payments"), (partners, "partners")]:
    app.add_typer(sub, name=name)


def _client() -> httpx.Client:
    url = os.environ.get("CLOUDBILL_URL", "http://127.0.0.1:8000")
    key = os.environ.get("CLOUDBILL_API_KEY")
    if not key:
        typer.echo("set CLOUDBILL_API_KEY (the embedded run prints the demo tenant's key)", err=True)
        raise typer.Exit(2)
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60)


def _call(method: str, path: str, body: object | None = None, idempotent: bool = False) -> dict | list:
    headers = {"Idempotency-Key": str(uuid.uuid4())} if idempotent else {}
    with _client() as client:
        response = client.request(method, path, json=body, headers=headers)
    if response.status_code >= 400:
        typer.echo(response.text, err=True)
        raise typer.Exit(1)
    data = response.json() if response.content else {}
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    return data


def _load(path: Path) -> object:
    return json.loads(sys.stdin.read() if str(path) == "-" else path.read_text())


@app.command()
def run(port: int = 8000, data_dir: Path = Path("var/embedded")):
    """Run everything in one process (SQLite, in-process bus, local archive) with a demo tenant."""
    from cloudbill.embedded import serve

    serve(port=port, data_dir=data_dir)


@app.command()
def serve(service: str = typer.Argument(..., help="interface_layer | billing_factory | invoice_factory | payment_factory")):
    """Run one service alone (distributed mode); settings come from its environment."""
    import runpy

    runpy.run_module(f"services.{service}", run_name="__main__")


@app.command("api")
def api(method: str, path: str, body: Optional[Path] = typer.Option(None, help="JSON file, or - for stdin")):
    """Any REST call: cloudbill api GET /v1/customers"""
    _call(method.upper(), path, _load(body) if body else None)


@customers.command("create")
def customer_create(external_id: str, name: str, country: str = "DE", currency: str = "EUR", street: str = "", postcode: str = "",
                    city: str = "", email: Optional[str] = None, vat_id: Optional[str] = None):
    _call("POST", "/v1/customers", {"external_id": external_id, "name": name, "country": country, "currency": currency,
                                    "street": street, "postcode": postcode, "city": city, "email": email, "vat_id": vat_id})


@customers.command("list")
def customer_list():
    _call("GET", "/v1/customers")


@plans.command("create-metric")
def metric_create(code: str, name: str, aggregation: str = "count", field: Optional[str] = None):
    _call("POST", "/v1/metrics", {"code": code, "name": name, "aggregation": aggregation, "field": field})


@plans.command("create")
def plan_create(file: Path = typer.Argument(..., help="plan JSON (see openapi/billing_factory.json, PlanIn)")):
    _call("POST", "/v1/plans", _load(file))


@plans.command("create-product")
def product_create(code: str, name: str, description: Optional[str] = None):
    _call("POST", "/v1/products", {"code": code, "name": name, "description": description})


@plans.command("create-coupon")
def coupon_create(code: str, name: str, percentage: Optional[str] = None, amount: Optional[str] = None,
                  currency: Optional[str] = None, periods: Optional[int] = typer.Option(None, help="periods it applies; default: for good")):
    _call("POST", "/v1/coupons", {"code": code, "name": name, "percentage": percentage, "amount": amount, "currency": currency,
                                  "periods": periods})


@plans.command("preview")
def plan_preview(plan: str, quantity: list[str] = typer.Option([], help="metric=quantity, repeatable"),
                 currency: Optional[str] = None, period_start: Optional[str] = None):
    """Price a stored plan for quantities per metric; nothing is stored."""
    quantities = dict(q.split("=", 1) for q in quantity)
    _call("POST", "/v1/previews/plan", {"plan": plan, "quantities": quantities, "currency": currency, "period_start": period_start})


@subs.command("rerate")
def sub_rerate(subscription: str, period_start: str = typer.Option(..., help="start of the billed period, ISO 8601 with zone")):
    """Re-rate a billed period from the raw usage log and compare it with the invoice (changes nothing)."""
    _call("POST", f"/v1/subscriptions/{subscription}/rerate", {"period_start": period_start})


@subs.command("prepaid")
def sub_prepaid(subscription: str):
    """Pay this subscription's usage from the customer's prepaid wallet as it arrives."""
    _call("PUT", f"/v1/subscriptions/{subscription}/prepaid")


@subs.command("create")
def subscription_create(customer: str, plan: str, start: str = typer.Option(..., help="ISO date-time, e.g. 2026-11-01T00:00:00Z"),
                        currency: Optional[str] = typer.Option(None, help="one of the plan's currencies")):
    _call("POST", "/v1/subscriptions", {"customer": customer, "plan": plan, "started_at": start, "currency": currency})


@subs.command("change-plan")
def subscription_change_plan(subscription: str, plan: str, at: Optional[str] = None):
    _call("POST", f"/v1/subscriptions/{subscription}/change-plan", {"plan": plan, "at": at})


@subs.command("pause")
def subscription_pause(subscription: str, at: Optional[str] = None):
    _call("POST", f"/v1/subscriptions/{subscription}/pause", {"at": at})


@subs.command("resume")
def subscription_resume(subscription: str, at: Optional[str] = None):
    _call("POST", f"/v1/subscriptions/{subscription}/resume", {"at": at})


@subs.command("cancel")
def subscription_cancel(subscription: str, at: Optional[str] = None, at_period_end: bool = False):
    _call("POST", f"/v1/subscriptions/{subscription}/cancel", {"at": at, "at_period_end": at_period_end})


@subs.command("apply-coupon")
def subscription_coupon(subscription: str, coupon: str, at: Optional[str] = None):
    _call("POST", f"/v1/subscriptions/{subscription}/coupons", {"coupon": coupon, "at": at})


@subs.command("grant-credit")
def subscription_credit(subscription: str, amount: str, name: str = "Guthaben"):
    _call("POST", f"/v1/subscriptions/{subscription}/credits", {"amount": amount, "name": name})


@subs.command("order")
def subscription_order(subscription: str, code: str, name: str, unit_price: str, quantity: str = "1",
                       ordered_at: str = typer.Option(..., help="ISO date-time; billed with the period it falls in")):
    _call("POST", f"/v1/subscriptions/{subscription}/orders", {"code": code, "name": name, "unit_price": unit_price, "quantity": quantity,
                                                              "ordered_at": ordered_at})


@subs.command("preview")
def subscription_preview(subscription: str, at: Optional[str] = None):
    """The upcoming invoice from the usage so far."""
    _call("GET", f"/v1/previews/subscriptions/{subscription}" + (f"?at={at}" if at else ""))


@usage.command("send")
def usage_send(file: Path = typer.Argument(..., help="JSON list of events, or - for stdin")):
    events = _load(file)
    for i in range(0, len(events), 1000):
        _call("POST", "/v1/usage/batch", {"events": events[i:i + 1000]})


@runs.command("create")
def run_create(as_of: Optional[str] = typer.Option(None, help="bill periods ending up to this instant (default: now)")):
    _call("POST", "/v1/billing-runs", {"as_of": as_of} if as_of else {}, idempotent=True)


@invoices.command("list")
def invoice_list(customer: Optional[str] = None):
    _call("GET", "/v1/invoices" + (f"?customer_id={customer}" if customer else ""))


@invoices.command("download")
def invoice_download(invoice_id: str, format: str = typer.Option("pdf", help="pdf | xml"), out: Optional[Path] = None):
    with _client() as client:
        response = client.get(f"/v1/invoices/{invoice_id}/{format}")
    if response.status_code >= 400:
        typer.echo(response.text, err=True)
        raise typer.Exit(1)
    target = out or Path(f"{invoice_id}.{format}")
    target.write_bytes(response.content)
    typer.echo(f"wrote {target} ({len(response.content)} bytes)")


@invoices.command("credit")
def invoice_credit(invoice_id: str, reason: str = typer.Option(..., help="printed on the credit note"),
                   line: list[str] = typer.Option(..., help="POSITION=AMOUNT, e.g. 1=10.00; repeat for more lines")):
    """Credit part of an issued invoice with a credit note (type 381) that references it."""
    lines = [{"position": int(p), "amount": a} for p, a in (item.split("=", 1) for item in line)]
    _call("POST", f"/v1/invoices/{invoice_id}/credit-notes", {"reason": reason, "lines": lines}, idempotent=True)


@invoices.command("cancel")
def invoice_cancel(invoice_id: str, reason: str = typer.Option(..., help="printed on the cancellation")):
    """Cancel an issued invoice in full (Stornorechnung, type 381)."""
    _call("POST", f"/v1/invoices/{invoice_id}/cancel", {"reason": reason})


@invoices.command("finalize")
def invoice_finalize(invoice_id: str):
    """Finalize a reviewed draft: it takes the next invoice number now."""
    _call("POST", f"/v1/invoices/{invoice_id}/finalize")


@invoices.command("runs")
def invoice_runs():
    """The latest invoice runs and their stage."""
    _call("GET", "/v1/invoice-runs")


@invoices.command("run")
def invoice_run(billing_run_id: str, watch: bool = typer.Option(False, help="show a progress bar until the run is done"),
                finalize: bool = typer.Option(False, help="finalize all of the run's drafts first")):
    """Progress of one invoice run: issued, archived and e-mailed documents of a billing run."""
    if finalize:
        _call("POST", f"/v1/invoice-runs/{billing_run_id}/finalize")
    if not watch:
        _call("GET", f"/v1/invoice-runs/{billing_run_id}")
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with _client() as client, Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()) as bar:
        task = bar.add_task("issuing", total=None)
        while True:
            response = client.get(f"/v1/invoice-runs/{billing_run_id}")
            if response.status_code >= 400:
                typer.echo(response.text, err=True)
                raise typer.Exit(1)
            run = response.json()
            done = run["archived"] + run["rejected"] + run["drafts"]
            bar.update(task, description=run["stage"], total=run["invoices_requested"], completed=done)
            if run["stage"] in ("completed", "awaiting_review"):
                break
            time.sleep(1)
    typer.echo(json.dumps(run, indent=2, ensure_ascii=False))


@payments.command("record")
def payment_record(customer: str, amount: str, currency: str = "EUR", reference: str = "", method: str = "bank_transfer"):
    """Record money received (e.g. a bank transfer), matched to the customer's open invoices."""
    _call("POST", "/v1/payments", {"customer_id": customer, "amount": amount, "currency": currency, "reference": reference, "method": method}, idempotent=True)


@payments.command("account")
def account_show(customer: str, start: Optional[str] = typer.Option(None, "--from", help="statement start, ISO with zone"),
                 end: Optional[str] = typer.Option(None, "--to", help="statement end (exclusive)")):
    query = "&".join(f"{k}={v}" for k, v in (("from", start), ("to", end)) if v)
    _call("GET", f"/v1/accounts/{customer}" + (f"?{query}" if query else ""))


@payments.command("refund")
def payment_refund(payment_id: str, amount: str, currency: str = "EUR", reason: str = ""):
    """Pay (part of) a payment back; invoices it had settled reopen as needed."""
    _call("POST", f"/v1/payments/{payment_id}/refunds", {"amount": amount, "currency": currency, "reason": reason}, idempotent=True)


@payments.command("mandate")
def payment_mandate(customer: str, reference: str, iban: str, debtor_name: str, signed_on: str,
                    creditor_id: str = typer.Option(..., help="SEPA creditor identifier"), scheme: str = "CORE", kind: str = "recurring"):
    """Record a signed SEPA direct-debit mandate."""
    _call("POST", "/v1/mandates", {"customer_id": customer, "reference": reference, "iban": iban, "debtor_name": debtor_name,
                                   "signed_on": signed_on, "creditor_id": creditor_id, "scheme": scheme, "kind": kind})


@payments.command("collect")
def payment_collect(customer: list[str] = typer.Option([], help="only these customers"), pain008: Optional[Path] = None):
    """Run a collection now; with --pain008 FILE the direct-debit file for the bank is written there."""
    data = _call("POST", "/v1/payments/collection-runs", {"customer_ids": customer}, idempotent=True)
    if pain008 and isinstance(data, dict) and data.get("pain008"):
        pain008.write_text(data["pain008"])


@payments.command("dunning")
def payment_dunning():
    """Send the reminders overdue invoices have reached (fees included)."""
    _call("POST", "/v1/payments/dunning-runs", {})


@payments.command("import-statement")
def payment_import_statement(file: Path):
    """Import a camt.053/054 bank statement: match money received, reverse returned debits."""
    with _client() as client:
        response = client.post("/v1/payments/bank-statements", content=file.read_bytes(), headers={"Content-Type": "application/xml"})
    typer.echo(response.text, err=response.status_code >= 400)
    if response.status_code >= 400:
        raise typer.Exit(1)


@partners.command("create")
def partner_create(file: Path = typer.Argument(..., help="partner JSON (see openapi/billing_factory.json, PartnerIn), or - for stdin")):
    _call("POST", "/v1/partners", _load(file))


@partners.command("list")
def partner_list():
    _call("GET", "/v1/partners")


@partners.command("add-rule")
def partner_rule(file: Path = typer.Argument(..., help="share rule JSON (ShareRuleIn), or - for stdin")):
    """Add a revenue-sharing rule; refused when a source would give away more than it has."""
    _call("POST", "/v1/share-rules", _load(file))


@partners.command("report")
def partner_report(billing_run: Optional[str] = None):
    """Each partner's share of what was billed (internal; never on customer invoices)."""
    _call("GET", "/v1/revenue-shares" + (f"?billing_run_id={billing_run}" if billing_run else ""))


@partners.command("statement")
def partner_statement(partner_id: str, period_start: str, period_end: str, currency: str = "EUR"):
    """State what was settled to a partner in a period; the invoice factory issues it as a self-billing statement (389)."""
    _call("POST", "/v1/partner-statements", {"partner_id": partner_id, "currency": currency, "period_start": period_start, "period_end": period_end})


@partners.command("account")
def partner_account(partner_id: str, currency: str = "EUR"):
    """The partner's payable in the ledger: shares, reversals, fees, VAT and payouts."""
    _call("GET", f"/v1/partner-accounts/{partner_id}?currency={currency}")


@partners.command("payout")
def partner_payout(method: str = typer.Option("sepa", help="sepa | stripe"), currency: str = "EUR", partner: list[str] = typer.Option([]),
                   pain001: Optional[Path] = None):
    """Pay partners what their issued statements are due; with --pain001 FILE the SEPA credit-transfer file is written there."""
    data = _call("POST", "/v1/partner-payouts", {"currency": currency, "method": method, "partner_ids": partner}, idempotent=True)
    if pain001 and isinstance(data, dict) and data.get("pain001"):
        pain001.write_text(data["pain001"])


def main() -> None:
    app()
