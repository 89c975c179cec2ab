"""A local stand-in for PayPal's REST sandbox, for the PayPal adapter's tests.

PayPal's sandbox (api-m.sandbox.paypal.com) cannot be reached from the
machines these tests run on, and PayPal publishes no mock server like
stripe-mock. So this is a small real HTTP server (FastAPI under uvicorn on
127.0.0.1) that answers the documented request and response shapes of the
calls the adapter makes, with PayPal's rules as documented:

- POST /v1/oauth2/token: client credentials by HTTP Basic, `grant_type=client_credentials`;
  answers `access_token`, `token_type` Bearer and `expires_in` seconds. Every other call needs
  a current bearer token, else 401 `invalid_token`.
- Orders v2: POST /v2/checkout/orders (intent AUTHORIZE or CAPTURE, one purchase unit); with a
  vaulted `payment_source.paypal.vault_id` the order is APPROVED at once, without one the payer
  must approve it first (PAYER_ACTION_REQUIRED); POST /v2/checkout/orders/{id}/authorize.
- Payments v2: GET, capture (partial with `final_capture` false) and void of authorizations;
  GET and refund (partial or full) of captures.
- Payouts v1: POST /v1/payments/payouts, one batch per `sender_batch_header.sender_batch_id`.
- Amounts are decimal strings with exactly the currency's decimals (JPY none, EUR two);
  others answer 422 DECIMAL_PRECISION / DECIMALS_NOT_SUPPORTED.
- `PayPal-Request-Id`: a POST repeated with the same id answers the first answer again and
  has no second effect.
- Errors are PayPal's shape: {"name", "message", "debug_id", "details": [{"issue", "description"}]}.

It is a stand-in, not PayPal: it keeps state in memory, knows only these calls, and models
no buyer, risk decision, currency conversion, fee or settlement delay. Tests steer it through
`PayPalStandIn` (fail the next calls with a status, revoke tokens, count effects).
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qs

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from libs.money import MINOR_UNITS
from tests.support.processes import free_port

CLIENT_ID, CLIENT_SECRET = "standin-client", "standin-secret"


class PayPalError(Exception):
    def __init__(self, status: int, name: str, issue: str | None = None, description: str = ""):
        super().__init__(name)
        self.status, self.name, self.issue, self.description = status, name, issue, description

    def response(self) -> JSONResponse:
        body = {"name": self.name, "message": self.description or self.name, "debug_id": secrets.token_hex(6)}
        if self.issue:
            body["details"] = [{"issue": self.issue, "description": self.description}]
        return JSONResponse(body, status_code=self.status)


def unprocessable(issue: str, description: str = "") -> PayPalError:
    return PayPalError(422, "UNPROCESSABLE_ENTITY", issue, description)


@dataclass
class PayPalStandIn:
    """The server's state, also the tests' handle on it."""

    token_ttl: int = 32400
    tokens: dict[str, float] = field(default_factory=dict)  # access token -> expiry (time.monotonic)
    tokens_issued: int = 0
    orders: dict[str, dict] = field(default_factory=dict)
    authorizations: dict[str, dict] = field(default_factory=dict)
    captures: dict[str, dict] = field(default_factory=dict)
    refunds: dict[str, dict] = field(default_factory=dict)
    payouts: dict[str, dict] = field(default_factory=dict)
    replies: dict[tuple, tuple[int, object]] = field(default_factory=dict)  # (path, PayPal-Request-Id) -> first answer
    failures: list[int] = field(default_factory=list)  # statuses the next API calls answer with
    calls: list[tuple[str, str]] = field(default_factory=list)
    base_url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):015d}"[:17].upper()

    def fail_next(self, *statuses: int) -> None:
        self.failures.extend(statuses)

    def revoke_tokens(self) -> None:
        self.tokens.clear()


def _value(amount: object, field_name: str = "amount", currency_key: str = "currency_code") -> tuple[Decimal, str]:
    if not isinstance(amount, dict) or not isinstance(amount.get("value"), str) or not isinstance(amount.get(currency_key), str):
        raise PayPalError(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER", f"{field_name} needs value and {currency_key}")
    currency, text = amount[currency_key], amount["value"]
    if currency not in MINOR_UNITS:
        raise unprocessable("INVALID_CURRENCY_CODE", f"{currency} is not supported")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise PayPalError(400, "INVALID_REQUEST", "INVALID_PARAMETER_SYNTAX", f"{text!r} is not a number") from None
    decimals = -value.as_tuple().exponent if value.as_tuple().exponent < 0 else 0
    if MINOR_UNITS[currency] == 0 and "." in text:
        raise unprocessable("DECIMALS_NOT_SUPPORTED", f"{currency} does not support decimals")
    if decimals > MINOR_UNITS[currency]:
        raise unprocessable("DECIMAL_PRECISION", f"{currency} has {MINOR_UNITS[currency]} decimals")
    if value <= 0:
        raise unprocessable("CANNOT_BE_ZERO_OR_NEGATIVE", "the amount must be positive")
    return value, currency


def _money(value: Decimal, currency: str, key: str = "currency_code") -> dict:
    return {key: currency, "value": f"{value:.{MINOR_UNITS[currency]}f}"}


def create_app(s: PayPalStandIn) -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def paypal_rules(request: Request, call_next):
        s.calls.append((request.method, request.url.path))
        if request.url.path != "/v1/oauth2/token":
            auth = request.headers.get("authorization", "")
            token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
            if token is None or s.tokens.get(token, 0) < time.monotonic():
                return JSONResponse({"error": "invalid_token", "error_description": "Access Token not found in cache"}, status_code=401)
            if s.failures:
                status = s.failures.pop(0)
                name = "INTERNAL_SERVER_ERROR" if status >= 500 else "INVALID_REQUEST"
                return PayPalError(status, name, None, "injected by the test").response()
        request_id = request.headers.get("paypal-request-id")
        if request.method != "POST" or not request_id:
            return await call_next(request)
        key = (request.url.path, request_id)
        with s.lock:
            if key in s.replies:
                status, body = s.replies[key]
                return JSONResponse(body, status_code=status) if body is not None else Response(status_code=status)
        response = await call_next(request)
        raw = b"".join([chunk async for chunk in response.body_iterator])
        if response.status_code < 500:  # PayPal keeps the outcome of a request id; a server failure may be retried
            s.replies[key] = (response.status_code, json.loads(raw) if raw else None)
        return Response(raw, status_code=response.status_code, media_type=response.media_type)

    @app.exception_handler(PayPalError)
    async def paypal_error(_request, exc: PayPalError):
        return exc.response()

    @app.post("/v1/oauth2/token")
    async def token(request: Request):
        auth = request.headers.get("authorization", "")
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}  # application/x-www-form-urlencoded
        if auth != expected:
            return JSONResponse({"error": "invalid_client", "error_description": "Client Authentication failed"}, status_code=401)
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"}, status_code=400)
        access = "A21AA" + secrets.token_urlsafe(24)
        s.tokens[access] = time.monotonic() + s.token_ttl
        s.tokens_issued += 1
        return {"scope": "https://uri.paypal.com/services/payments/payment", "access_token": access, "token_type": "Bearer",
                "app_id": "APP-STANDIN", "expires_in": s.token_ttl, "nonce": secrets.token_hex(8)}

    def link(path: str, rel: str, method: str = "GET") -> dict:
        return {"href": f"{s.base_url}{path}", "rel": rel, "method": method}

    def order_view(order: dict) -> dict:
        unit = {k: v for k, v in order["unit"].items() if k != "payments"}
        payments = {"authorizations": [s.authorizations[a] for a in order["authorizations"]]} if order["authorizations"] else None
        view = {"id": order["id"], "intent": order["intent"], "status": order["status"],
                "purchase_units": [{**unit, **({"payments": payments} if payments else {})}],
                "links": [link(f"/v2/checkout/orders/{order['id']}", "self")]}
        if order["status"] == "PAYER_ACTION_REQUIRED":
            view["links"].append({"href": f"https://www.sandbox.paypal.com/checkoutnow?token={order['id']}", "rel": "payer-action",
                                  "method": "GET"})
        return view

    @app.post("/v2/checkout/orders", status_code=200)
    async def create_order(request: Request):
        body = await request.json()
        if body.get("intent") not in ("AUTHORIZE", "CAPTURE"):
            raise PayPalError(400, "INVALID_REQUEST", "INVALID_PARAMETER_VALUE", "intent is AUTHORIZE or CAPTURE")
        units = body.get("purchase_units")
        if not isinstance(units, list) or len(units) != 1:
            raise PayPalError(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER", "one purchase unit")
        value, currency = _value(units[0].get("amount"), "purchase_units[0].amount")
        vault_id = ((body.get("payment_source") or {}).get("paypal") or {}).get("vault_id")
        order = {"id": s.new_id("O"), "intent": body["intent"], "status": "APPROVED" if vault_id else "PAYER_ACTION_REQUIRED",
                 "unit": {**units[0], "amount": _money(value, currency), "reference_id": units[0].get("reference_id", "default")},
                 "authorizations": []}
        s.orders[order["id"]] = order
        return JSONResponse(order_view(order), status_code=201)

    @app.post("/v2/checkout/orders/{order_id}/authorize", status_code=201)
    async def authorize_order(order_id: str):
        order = found(s.orders, order_id)
        if order["intent"] != "AUTHORIZE":
            raise unprocessable("ACTION_DOES_NOT_MATCH_INTENT", "the order's intent is CAPTURE")
        if order["status"] == "COMPLETED":
            raise unprocessable("ORDER_ALREADY_AUTHORIZED", "the order was authorized before")
        if order["status"] != "APPROVED":
            raise unprocessable("ORDER_NOT_APPROVED", "the payer has not approved the order")
        auth = {"id": s.new_id("A"), "status": "CREATED", "amount": order["unit"]["amount"],
                "custom_id": order["unit"].get("custom_id"), "captured": "0", "expiration_time": "2099-01-01T00:00:00Z",
                "links": []}
        auth["links"] = [link(f"/v2/payments/authorizations/{auth['id']}", "self"),
                         link(f"/v2/payments/authorizations/{auth['id']}/capture", "capture", "POST"),
                         link(f"/v2/payments/authorizations/{auth['id']}/void", "void", "POST"),
                         link(f"/v2/checkout/orders/{order_id}", "up")]
        s.authorizations[auth["id"]] = auth
        order["authorizations"].append(auth["id"])
        order["status"] = "COMPLETED"
        return JSONResponse(order_view(order), status_code=201)

    def public(resource: dict) -> dict:
        return {k: v for k, v in resource.items() if k not in ("captured", "refunded")}

    def found(store: dict, resource_id: str) -> dict:
        if resource_id not in store:
            raise PayPalError(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", f"no such resource {resource_id}")
        return store[resource_id]

    async def json_body(request: Request) -> dict:
        return await request.json() if await request.body() else {}

    @app.get("/v2/payments/authorizations/{auth_id}")
    async def get_authorization(auth_id: str):
        return public(found(s.authorizations, auth_id))

    @app.post("/v2/payments/authorizations/{auth_id}/capture", status_code=201)
    async def capture_authorization(auth_id: str, request: Request):
        auth, body = found(s.authorizations, auth_id), await json_body(request)
        if auth["status"] == "VOIDED":
            raise unprocessable("AUTHORIZATION_VOIDED", "the authorization was voided")
        if auth["status"] in ("CAPTURED", "EXPIRED"):
            raise unprocessable("AUTHORIZATION_ALREADY_CAPTURED", "nothing left to capture")
        authorized, currency = _value(auth["amount"])
        remaining = authorized - Decimal(auth["captured"])
        value, wanted_currency = _value(body["amount"]) if "amount" in body else (remaining, currency)
        if wanted_currency != currency:
            raise unprocessable("CURRENCY_MISMATCH", "capture in the authorization's currency")
        if value > remaining:
            raise unprocessable("MAX_CAPTURE_AMOUNT_EXCEEDED", "more than is left of the authorization")
        auth["captured"] = str(Decimal(auth["captured"]) + value)
        final = bool(body.get("final_capture", "amount" not in body)) or value == remaining
        auth["status"] = "CAPTURED" if final else "PARTIALLY_CAPTURED"
        capture = {"id": s.new_id("C"), "status": "COMPLETED", "amount": _money(value, currency), "final_capture": final,
                   "custom_id": auth.get("custom_id"), "refunded": "0", "links": []}
        capture["links"] = [link(f"/v2/payments/captures/{capture['id']}", "self"),
                            link(f"/v2/payments/captures/{capture['id']}/refund", "refund", "POST"),
                            link(f"/v2/payments/authorizations/{auth_id}", "up")]
        s.captures[capture["id"]] = capture
        return JSONResponse(public(capture), status_code=201)

    @app.post("/v2/payments/authorizations/{auth_id}/void")
    async def void_authorization(auth_id: str, request: Request):
        auth = found(s.authorizations, auth_id)
        if auth["status"] == "CAPTURED":
            raise unprocessable("PREVIOUSLY_CAPTURED", "a captured authorization cannot be voided")
        if auth["status"] == "VOIDED":
            raise unprocessable("PREVIOUSLY_VOIDED", "the authorization was voided before")
        auth["status"] = "VOIDED"
        if "return=representation" in request.headers.get("prefer", ""):
            return JSONResponse(public(auth), status_code=200)
        return Response(status_code=204)

    @app.get("/v2/payments/captures/{capture_id}")
    async def get_capture(capture_id: str):
        return public(found(s.captures, capture_id))

    @app.post("/v2/payments/captures/{capture_id}/refund", status_code=201)
    async def refund_capture(capture_id: str, request: Request):
        capture, body = found(s.captures, capture_id), await json_body(request)
        captured, currency = _value(capture["amount"])
        left = captured - Decimal(capture["refunded"])
        if left <= 0:
            raise unprocessable("CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded")
        value, wanted_currency = _value(body["amount"]) if "amount" in body else (left, currency)
        if wanted_currency != currency:
            raise unprocessable("REFUND_CAPTURE_CURRENCY_MISMATCH", "Refund must be in the same currency as the capture")
        if value > left:
            raise unprocessable("REFUND_AMOUNT_EXCEEDED",
                                "The refund amount must be less than or equal to the capture amount that has not yet been refunded.")
        capture["refunded"] = str(Decimal(capture["refunded"]) + value)
        capture["status"] = "REFUNDED" if value == left else "PARTIALLY_REFUNDED"
        refund = {"id": s.new_id("R"), "status": "COMPLETED", "amount": _money(value, currency),
                  "links": [link(f"/v2/payments/captures/{capture_id}", "up")]}
        refund["links"].insert(0, link(f"/v2/payments/refunds/{refund['id']}", "self"))
        s.refunds[refund["id"]] = refund
        return JSONResponse(refund, status_code=201)

    @app.post("/v1/payments/payouts", status_code=201)
    async def payouts(request: Request):
        body = await request.json()
        batch_id = (body.get("sender_batch_header") or {}).get("sender_batch_id")
        items = body.get("items")
        if not batch_id or not isinstance(items, list) or not items:
            raise PayPalError(400, "VALIDATION_ERROR", "MISSING_REQUIRED_PARAMETER", "sender_batch_id and items are required")
        if any(p["sender_batch_header"]["sender_batch_id"] == batch_id for p in s.payouts.values()):
            raise PayPalError(400, "USER_BUSINESS_ERROR", "SENDER_BATCH_ID_ALREADY_USED", "Batch with given sender_batch_id already exists")
        for item in items:
            _value(item.get("amount"), "items[].amount", currency_key="currency")
            if item.get("recipient_type") not in ("EMAIL", "PHONE", "PAYPAL_ID") or not item.get("receiver"):
                raise PayPalError(400, "VALIDATION_ERROR", "INVALID_PARAMETER_VALUE", "recipient_type and receiver")
        payout_id = s.new_id("P")
        s.payouts[payout_id] = {"sender_batch_header": body["sender_batch_header"], "items": items}
        return JSONResponse({"batch_header": {"sender_batch_header": body["sender_batch_header"], "payout_batch_id": payout_id,
                                              "batch_status": "PENDING"},
                             "links": [link(f"/v1/payments/payouts/{payout_id}", "self")]}, status_code=201)

    return app


@contextmanager
def running_paypal_standin(token_ttl: int = 32400):
    """Start the stand-in on a free port of 127.0.0.1; yields its state (`.base_url` to point the adapter at)."""
    state = PayPalStandIn(token_ttl=token_ttl)
    port = free_port()
    state.base_url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(uvicorn.Config(create_app(state), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError("the PayPal stand-in did not start")
    try:
        yield state
    finally:
        server.should_exit = True
        thread.join(10)
