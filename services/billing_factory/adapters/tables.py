"""Billing factory tables: customers, catalog, subscriptions, usage, billing runs."""

from sqlalchemy import JSON, BigInteger, Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Table, UniqueConstraint, false

from libs.platform.inbox import inbox_table
from libs.platform.outbox import outbox_table
from services.billing_factory.adapters.metadata import metadata


def _tenant() -> Column:
    return Column("tenant_id", String(64), nullable=False)


customers = Table(
    "customers", metadata,
    Column("id", String(64), primary_key=True), _tenant(),
    Column("external_id", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(320)), Column("street", String(200)), Column("postcode", String(20)),
    Column("city", String(100)), Column("country", String(2), nullable=False),
    Column("vat_id", String(30)), Column("tax_number", String(30)), Column("buyer_reference", String(200)),
    Column("language", String(2), nullable=False), Column("e_invoice_format", String(20), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("email_invoices", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("reseller_id", String(64)),  # the partner (reseller) that sold this customer, for resold-only share rules
    UniqueConstraint("tenant_id", "external_id", name="uq_customers_tenant_external"),
)

metrics = Table(
    "metrics", metadata,
    Column("id", String(64), primary_key=True), _tenant(),
    Column("code", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("aggregation", String(30), nullable=False),
    Column("field", String(100)),
    Column("decimals", Integer, nullable=False),
    Column("group_by", String(100)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "code", name="uq_metrics_tenant_code"),
)

plans = Table(
    "plans", metadata,
    Column("id", String(64), primary_key=True), _tenant(),
    Column("code", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("interval", String(20), nullable=False),
    Column("definition", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "code", name="uq_plans_tenant_code"),
)

subscriptions = Table(
    "subscriptions", metadata,
    Column("id", String(64), primary_key=True), _tenant(),
    Column("external_id", String(200)),
    Column("customer_id", String(64), ForeignKey("customers.id"), nullable=False),
    Column("plan_id", String(64), ForeignKey("plans.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True)),
    Column("currency", String(3)),  # null: the plan's own currency
    Column("cancel_at_period_end", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_subscriptions_tenant_customer", "tenant_id", "customer_id"),
)

def _bytewise(length: int):
    """A string compared byte by byte on PostgreSQL (COLLATE "C"), the same order as the C.UTF-8 the servers use, at
    a fraction of the cost: a usage insert compares its keys in both indexes some 20 times (migration 0010)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


usage_events = Table(
    "usage_events", metadata,
    Column("tenant_id", _bytewise(64), nullable=False),
    Column("event_id", _bytewise(200), nullable=False),
    Column("subscription_id", _bytewise(64), nullable=False),
    Column("metric_code", String(100), nullable=False),
    Column("ts", DateTime(timezone=True), nullable=False),
    Column("properties", JSON, nullable=False),
    Column("payload_hash", String(64), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("billed_run_id", String(64)),
    UniqueConstraint("tenant_id", "event_id", name="uq_usage_tenant_event"),
    Index("ix_usage_subscription_ts", "subscription_id", "ts"),  # subscription ids are unique across tenants (migration 0009)
)

billing_runs = Table(
    "billing_runs", metadata,
    Column("id", String(64), primary_key=True), _tenant(),
    Column("as_of", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),  # running | completed
    Column("invoices_requested", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("subscriptions_total", Integer, nullable=False, server_default="0"),
    Column("subscriptions_done", Integer, nullable=False, server_default="0"),
    Column("cursor", String(64)),  # the last subscription id a committed chunk has billed
    Column("completed_at", DateTime(timezone=True)),
)

billing_run_chunks = Table(  # the chunks of a run claimed by workers: several bill one run at once, each chunk once
    "billing_run_chunks", metadata,
    _tenant(),
    Column("run_id", String(64), nullable=False),
    Column("seq", Integer, nullable=False),  # claimed in this order
    Column("after_id", String(64)),  # the chunk's subscriptions: id > after_id (all when null) ...
    Column("upto_id", String(64)),  # ... and id <= upto_id (none when null)
    Column("last", Boolean, nullable=False),  # nothing is left to claim after it
    Column("status", String(20), nullable=False),  # claimed | done; a claimed chunk nobody holds is billed by the next worker
    UniqueConstraint("tenant_id", "run_id", "seq", name="uq_billing_run_chunk"),
)

billed_periods = Table(
    "billed_periods", metadata,
    _tenant(),
    Column("subscription_id", String(64), nullable=False),
    Column("period_start", DateTime(timezone=True), nullable=False),
    Column("period_end", DateTime(timezone=True), nullable=False),
    Column("billing_run_id", String(64), nullable=False),
    Column("request_id", String(200), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("net_minor", BigInteger, nullable=False),
    Column("lines", JSON, nullable=False),
    UniqueConstraint("tenant_id", "subscription_id", "period_start", name="uq_billed_sub_period"),
)

prepaid_subscriptions = Table(  # subscriptions whose usage is paid from the customer's wallet as it arrives
    "prepaid_subscriptions", metadata,
    _tenant(),
    Column("subscription_id", String(64), nullable=False),
    Column("enabled_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "subscription_id", name="uq_prepaid_subscription"),
)

prepaid_charges = Table(  # gross charged to the wallet so far, per subscription and period
    "prepaid_charges", metadata,
    _tenant(),
    Column("subscription_id", String(64), nullable=False),
    Column("period_start", DateTime(timezone=True), nullable=False),
    Column("charged_minor", BigInteger, nullable=False),
    Column("paid_minor", BigInteger, nullable=False, server_default="0"),  # what the wallet actually paid of it
    UniqueConstraint("tenant_id", "subscription_id", "period_start", name="uq_prepaid_charge_period"),
)

budgets = Table(  # warning levels on a postpaid subscription's usage or charges per period
    "budgets", metadata,
    Column("id", String(64), primary_key=True), _tenant(),
    Column("subscription_id", String(64), nullable=False, index=True),
    Column("kind", String(10), nullable=False),  # charges | usage
    Column("charge_code", String(100)),
    Column("limit_value", String(40), nullable=False),  # Decimal as text: minor units for charges, a quantity for usage
    Column("levels", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

budget_alerts = Table(  # one row per level announced per period: the unique key makes each announcement happen once
    "budget_alerts", metadata,
    Column("budget_id", String(64), nullable=False),
    Column("period_start", DateTime(timezone=True), nullable=False),
    Column("level", Integer, nullable=False),
    Column("value", String(40), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("budget_id", "period_start", "level", name="uq_budget_alert_level"),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

products = Table(
    "products", metadata,
    Column("id", String(64), primary_key=True), _tenant(),
    Column("code", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", String(1000)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "code", name="uq_products_tenant_code"),
)

coupons = Table(
    "coupons", metadata,
    Column("id", String(64), primary_key=True), _tenant(),
    Column("code", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("percentage", Numeric(9, 4)),
    Column("amount", Numeric(18, 6)),
    Column("currency", String(3)),
    Column("periods", Integer),
    Column("charge_codes", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "code", name="uq_coupons_tenant_code"),
)

subscription_coupons = Table(
    "subscription_coupons", metadata,
    _tenant(),
    Column("subscription_id", String(64), ForeignKey("subscriptions.id"), nullable=False),
    Column("coupon_id", String(64), ForeignKey("coupons.id"), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "subscription_id", "coupon_id", name="uq_subscription_coupon"),
)

credits = Table(
    "credits", metadata,
    Column("id", String(64), primary_key=True), _tenant(),
    Column("subscription_id", String(64), ForeignKey("subscriptions.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("granted_minor", BigInteger, nullable=False),
    Column("remaining_minor", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_credits_tenant_subscription", "tenant_id", "subscription_id"),
)

one_time_orders = Table(
    "one_time_orders", metadata,
    Column("id", String(64), primary_key=True), _tenant(),
    Column("subscription_id", String(64), ForeignKey("subscriptions.id"), nullable=False),
    Column("code", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("quantity", Numeric(18, 6), nullable=False),
    Column("unit_price", Numeric(18, 6), nullable=False),
    Column("tax_category", String(3), nullable=False),
    Column("tax_rate", Numeric(5, 2), nullable=False),
    Column("ordered_at", DateTime(timezone=True), nullable=False),
    Column("billed_run_id", String(64)),
    Column("clearing", JSON),  # partner code -> key value (e.g. km per operator), for clearing share rules
    Index("ix_orders_tenant_subscription", "tenant_id", "subscription_id"),
)

subscription_phases = Table(
    "subscription_phases", metadata,
    _tenant(),
    Column("subscription_id", String(64), ForeignKey("subscriptions.id"), nullable=False),
    Column("plan_id", String(64), ForeignKey("plans.id"), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "subscription_id", "started_at", name="uq_phase_sub_start"),
)

subscription_pauses = Table(
    "subscription_pauses", metadata,
    _tenant(),
    Column("subscription_id", String(64), ForeignKey("subscriptions.id"), nullable=False),
    Column("paused_at", DateTime(timezone=True), nullable=False),
    Column("resumed_at", DateTime(timezone=True)),
    UniqueConstraint("tenant_id", "subscription_id", "paused_at", name="uq_pause_sub_start"),
)

partners = Table(  # who delivers part of the service: provider, service partners, resellers (parent_id: the reseller above)
    "partners", metadata,
    Column("id", String(64), primary_key=True), _tenant(),
    Column("code", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("role", String(30), nullable=False),
    Column("parent_id", String(64)),
    Column("street", String(200), nullable=False), Column("postcode", String(20), nullable=False),
    Column("city", String(100), nullable=False), Column("country", String(2), nullable=False),
    Column("vat_id", String(30)), Column("tax_number", String(30)), Column("email", String(320)),
    Column("language", String(2), nullable=False, server_default="de"),
    Column("bank_holder", String(140)), Column("iban", String(34)), Column("bic", String(11)),
    Column("stripe_account", String(100)),
    Column("payout_method", String(10), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "code", name="uq_partners_tenant_code"),
)

partner_contracts = Table(  # when a partner may take part: a share rule and a clearing key need a contract on the day
    "partner_contracts", metadata,
    Column("id", String(64), primary_key=True), _tenant(),
    Column("partner_id", String(64), ForeignKey("partners.id"), nullable=False, index=True),
    Column("reference", String(100), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

share_rules = Table(  # how a line's net is split: evaluated in `order`, each carved from the platform's or a partner's part
    "share_rules", metadata,
    Column("id", String(64), primary_key=True), _tenant(),
    Column("partner_id", String(64), ForeignKey("partners.id"), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("order", Integer, nullable=False),
    Column("percent", Numeric(9, 4)), Column("amount", Numeric(18, 6)),
    Column("source_id", String(64)), Column("of_source", Boolean, nullable=False, server_default=false()),
    Column("plan_codes", JSON, nullable=False), Column("charge_codes", JSON, nullable=False), Column("metric_codes", JSON, nullable=False),
    Column("resold_only", Boolean, nullable=False, server_default=false()),
    Column("min_minor", BigInteger), Column("max_minor", BigInteger),
    Column("valid_from", Date), Column("valid_to", Date),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_share_rules_tenant", "tenant_id"),
)
