"""Use cases for the partner network: partners, their contracts and the rules that split revenue among them.

The billing factory owns the partner master data because rating needs it:
every rated line carries its split. Each change is announced as
`PartnerChanged` (outbox, same transaction) so the payment factory can state
and pay partners from the same data.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Mapping

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from sqlalchemy import Connection, Engine, delete, select, update
from sqlalchemy.exc import IntegrityError

from libs.contracts import topics
from libs.contracts.events import PartnerBank, PartnerChanged, PartySnapshot
from libs.ids import new_id
from libs.platform.outbox import write_outbox
from services.billing_factory.adapters.tables import outbox, partner_contracts, partners, share_rules
from services.billing_factory.app.errors import Conflict, Invalid, NotFound
from services.billing_factory.domain.sharing import (
    Contract, Partner, RuleKind, ShareRule, SharingError, validate_chain, validate_rules,
)

def _check_bank(data: dict[str, Any]) -> dict[str, Any]:
    """A normalized IBAN/BIC, or a problem naming the field; SEPA payouts need an account, Stripe ones an account id."""
    bank = data.pop("bank", None) or {}
    out = {"bank_holder": bank.get("holder"), "iban": None, "bic": None}
    if bank.get("iban"):
        try:
            out["iban"] = IBAN(bank["iban"]).compact
        except SchwiftyException as exc:
            raise Invalid("bank.iban", f"not a valid IBAN: {exc}") from None
    if bank.get("bic"):
        try:
            out["bic"] = str(BIC(bank["bic"]))
        except SchwiftyException as exc:
            raise Invalid("bank.bic", f"not a valid BIC: {exc}") from None
    method = data.get("payout_method", "sepa")
    if method == "sepa" and not out["iban"]:
        raise Invalid("bank.iban", "SEPA payouts need the partner's IBAN")
    if method == "stripe" and not data.get("stripe_account"):
        raise Invalid("stripe_account", "Stripe payouts need the partner's connected account id")
    if out["iban"] and not out["bank_holder"]:
        out["bank_holder"] = data["name"]
    return out


def network(conn: Connection, tenant_id: str) -> dict[str, Partner]:
    """Every partner of the tenant with its contracts, as the domain sees them."""
    found: dict[str, list[Contract]] = {}
    for r in conn.execute(select(partner_contracts).where(partner_contracts.c.tenant_id == tenant_id)):
        found.setdefault(r.partner_id, []).append(Contract(r.valid_from, r.valid_to))
    return {r.id: Partner(r.id, r.code, r.role, r.parent_id, tuple(sorted(found.get(r.id, []), key=lambda c: c.valid_from)))
            for r in conn.execute(select(partners).where(partners.c.tenant_id == tenant_id))}


def _rule(r: Mapping[str, Any]) -> ShareRule:
    """A rule as the domain sees it, from a stored row or from one about to be inserted."""
    return ShareRule(
        id=r["id"], partner_id=r["partner_id"], kind=RuleKind(r["kind"]), order=r["order"],
        percent=None if r["percent"] is None else Decimal(r["percent"]), amount=None if r["amount"] is None else Decimal(r["amount"]),
        source_id=r["source_id"], of_source=bool(r["of_source"]), plan_codes=frozenset(r["plan_codes"]),
        charge_codes=frozenset(r["charge_codes"]), metric_codes=frozenset(r["metric_codes"]), resold_only=bool(r["resold_only"]),
        min_minor=r["min_minor"], max_minor=r["max_minor"], valid_from=r["valid_from"], valid_to=r["valid_to"])


def load_rules(conn: Connection, tenant_id: str) -> list[ShareRule]:
    return [_rule(r._mapping) for r in conn.execute(select(share_rules).where(share_rules.c.tenant_id == tenant_id).order_by(share_rules.c.order, share_rules.c.id))]


def _announce(conn: Connection, tenant_id: str, row: dict[str, Any]) -> None:
    party = PartySnapshot(id=row["id"], number=row["code"], name=row["name"], street=row["street"], postcode=row["postcode"],
                          city=row["city"], country=row["country"], vat_id=row["vat_id"], tax_number=row["tax_number"],
                          email=row["email"], language=row["language"])
    bank = PartnerBank(holder=row["bank_holder"], iban=row["iban"], bic=row["bic"]) if row["iban"] else None
    write_outbox(conn, outbox, tenant_id, topics.BILLING, row["id"], PartnerChanged(
        partner_id=row["id"], code=row["code"], party=party, role=row["role"], parent_id=row["parent_id"], bank=bank,
        stripe_account=row["stripe_account"], payout_method=row["payout_method"]))


def _lookup(conn: Connection, tenant_id: str, ref: str):
    """A partner by id or code, or None."""
    return conn.execute(select(partners).where(partners.c.tenant_id == tenant_id, (partners.c.id == ref) | (partners.c.code == ref))).first()


def _find(conn: Connection, tenant_id: str, ident: str):
    row = _lookup(conn, tenant_id, ident)
    if row is None:
        raise NotFound("partner", ident)
    return row


def partner_id_named(conn: Connection, tenant_id: str, ref: str | None, field: str) -> str | None:
    """The id of the partner a request names in `field` (by id or code); an unknown one is invalid input, not a 404."""
    if ref is None:
        return None
    row = _lookup(conn, tenant_id, ref)
    if row is None:
        raise Invalid(field, f"no partner {ref!r} in this tenant")
    return row.id


def _check_chain(conn: Connection, tenant_id: str, partner_id: str, parent_id: str | None) -> None:
    try:
        validate_chain(network(conn, tenant_id), partner_id, parent_id)
    except SharingError as exc:
        raise Invalid("parent", exc.message) from None


def create_partner(engine: Engine, tenant_id: str, data: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    data = dict(data)
    contract = data.pop("contract", None)
    now = now or datetime.now(timezone.utc)
    bank = _check_bank(data)
    row = {**data, **bank, "id": new_id("ptn"), "tenant_id": tenant_id, "created_at": now, "updated_at": now}
    if not (row.get("vat_id") or row.get("tax_number")):
        raise Invalid("vat_id", "a partner needs a VAT id or a tax number: its self-billing statements must name one (§ 14 Abs. 4 UStG)")
    try:
        with engine.begin() as conn:
            row["parent_id"] = partner_id_named(conn, tenant_id, row.pop("parent", None), "parent")
            _check_chain(conn, tenant_id, row["id"], row["parent_id"])
            conn.execute(partners.insert().values(**row))
            if contract:
                _insert_contract(conn, tenant_id, row["id"], contract, now)
            _announce(conn, tenant_id, row)
    except IntegrityError:
        raise Conflict(f"a partner with code {data['code']!r} exists") from None
    return get_partner(engine, tenant_id, row["id"])


def update_partner(engine: Engine, tenant_id: str, ident: str, changes: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """Change master data or move a partner in the reseller chain; a move that would close a cycle is refused."""
    with engine.begin() as conn:
        current = dict(_find(conn, tenant_id, ident)._mapping)
        merged = {**current, **{k: v for k, v in changes.items() if k != "bank"}}
        if "bank" in changes or "payout_method" in changes or "stripe_account" in changes:
            bank = changes.get("bank") or {"holder": current["bank_holder"], "iban": current["iban"], "bic": current["bic"]}
            merged.update(_check_bank({**merged, "bank": bank}))
        if "parent" in changes:
            merged["parent_id"] = partner_id_named(conn, tenant_id, changes["parent"], "parent")
            _check_chain(conn, tenant_id, current["id"], merged["parent_id"])
        merged.pop("parent", None)
        if not (merged.get("vat_id") or merged.get("tax_number")):
            raise Invalid("vat_id", "a partner needs a VAT id or a tax number")
        merged["updated_at"] = now or datetime.now(timezone.utc)
        conn.execute(update(partners).where(partners.c.id == current["id"]).values(
            **{k: merged[k] for k in merged if k in partners.c and k not in ("id", "tenant_id", "created_at", "code")}))
        _announce(conn, tenant_id, merged)
    return get_partner(engine, tenant_id, current["id"])


def _out(conn: Connection, row) -> dict[str, Any]:
    r = dict(row._mapping)
    r["bank"] = {"holder": r.pop("bank_holder"), "iban": r.pop("iban"), "bic": r.pop("bic")} if row.iban else None
    r["contracts"] = [dict(c._mapping) for c in conn.execute(
        select(partner_contracts).where(partner_contracts.c.partner_id == row.id).order_by(partner_contracts.c.valid_from))]
    return r


def get_partner(engine: Engine, tenant_id: str, ident: str) -> dict[str, Any]:
    with engine.connect() as conn:
        return _out(conn, _find(conn, tenant_id, ident))


def list_partners(engine: Engine, tenant_id: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [_out(conn, r) for r in conn.execute(select(partners).where(partners.c.tenant_id == tenant_id).order_by(partners.c.code))]


def _insert_contract(conn: Connection, tenant_id: str, partner_id: str, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    if data.get("valid_to") is not None and data["valid_to"] <= data["valid_from"]:
        raise Invalid("valid_to", "must be after valid_from")
    row = {"id": new_id("pct"), "tenant_id": tenant_id, "partner_id": partner_id, "reference": data["reference"],
           "valid_from": data["valid_from"], "valid_to": data.get("valid_to"), "created_at": now}
    conn.execute(partner_contracts.insert().values(**row))
    return row


def add_contract(engine: Engine, tenant_id: str, ident: str, data: dict[str, Any]) -> dict[str, Any]:
    with engine.begin() as conn:
        partner = _find(conn, tenant_id, ident)
        return _insert_contract(conn, tenant_id, partner.id, data, datetime.now(timezone.utc))


def _codes(value) -> list[str]:
    return sorted(set(value or ()))


def create_rule(engine: Engine, tenant_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Add a share rule; the tenant's rules together must still be consistent (at most 100 % of any source, inside contracts)."""
    with engine.begin() as conn:
        partner = _find(conn, tenant_id, data["partner"])
        source_id = _find(conn, tenant_id, data["source"]).id if data.get("source") else None
        row = {"id": new_id("shr"), "tenant_id": tenant_id, "partner_id": partner.id, "kind": data["kind"], "order": data.get("order", 0),
               "percent": data.get("percent"), "amount": data.get("amount"), "source_id": source_id, "of_source": data.get("of_source", False),
               "plan_codes": _codes(data.get("plan_codes")), "charge_codes": _codes(data.get("charge_codes")),
               "metric_codes": _codes(data.get("metric_codes")), "resold_only": data.get("resold_only", False),
               "min_minor": data.get("min_minor"), "max_minor": data.get("max_minor"),
               "valid_from": data.get("valid_from"), "valid_to": data.get("valid_to"), "created_at": datetime.now(timezone.utc)}
        existing = load_rules(conn, tenant_id)
        try:
            validate_rules([*existing, _rule(row)], network(conn, tenant_id))
        except SharingError as exc:
            raise Invalid(_rule_field(exc.field, len(existing)), exc.message) from None
        conn.execute(share_rules.insert().values(**row))
    return _rule_out(row)


def _rule_field(field: str, new_index: int) -> str:
    """The domain names rules by position; the caller sent one rule, so its own fields are named plainly."""
    prefix = f"rules[{new_index}]."
    return field[len(prefix):] if field.startswith(prefix) else field


def _rule_out(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("id", "partner_id", "kind", "order", "percent", "amount", "source_id", "of_source", "plan_codes",
                                "charge_codes", "metric_codes", "resold_only", "min_minor", "max_minor", "valid_from", "valid_to", "created_at")}


def list_rules(engine: Engine, tenant_id: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [_rule_out(dict(r._mapping)) for r in conn.execute(
            select(share_rules).where(share_rules.c.tenant_id == tenant_id).order_by(share_rules.c.order, share_rules.c.id))]


def delete_rule(engine: Engine, tenant_id: str, rule_id: str) -> None:
    with engine.begin() as conn:
        if conn.execute(delete(share_rules).where(share_rules.c.tenant_id == tenant_id, share_rules.c.id == rule_id)).rowcount == 0:
            raise NotFound("share rule", rule_id)


def check_clearing(conn: Connection, tenant_id: str, clearing: dict[str, Decimal] | None, on: date) -> None:
    """A clearing key may only name partners that have a contract on the day of the usage."""
    if not clearing:
        return
    by_code = {p.code: p for p in network(conn, tenant_id).values()}
    for code, value in clearing.items():
        if value < 0:
            raise Invalid(f"clearing.{code}", "a clearing key must not be negative")
        partner = by_code.get(code)
        if partner is None:
            raise Invalid(f"clearing.{code}", f"no partner {code!r} in this tenant")
        if not partner.has_contract_on(on):
            raise Invalid(f"clearing.{code}", f"partner {code!r} has no contract on {on.isoformat()}")
    if sum(clearing.values()) <= 0:
        raise Invalid("clearing", "the clearing keys must not all be zero")


