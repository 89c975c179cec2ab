"""Interface layer settings (env prefix CLOUDBILL_EDGE_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from libs.platform.settings import ServiceSettings


class EdgeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CLOUDBILL_EDGE_", extra="ignore")

    database_schema: str = "interface"
    kafka_group: str = "cloudbill-edge"
    port: int = 8000
    admin_token: str = "dev-admin-token"  # creates top-level tenants
    billing_url: str = "http://127.0.0.1:8001"
    invoice_url: str = "http://127.0.0.1:8002"
    payment_url: str = "http://127.0.0.1:8003"
    max_batch_events: int = 1000
    future_tolerance_seconds: int = 300
    max_event_age_days: int = 62
    webhook_retry_base_seconds: float = 30.0  # first retry after this, doubling up to six hours
    webhook_poll_seconds: float = 5.0
    webhook_timeout_seconds: float = 10.0
    # audit records are in the local spool before a change is answered; the shipper moves them into the document store
    # this often (and at once while it finds more)
    audit_ship_seconds: float = 0.2
    # a verified API key is remembered this long per process; a key revoked through another edge replica keeps working
    # there at most this long (0: every request asks the database)
    api_key_cache_seconds: float = 5.0
    # which subscription bills a customer's usage is remembered this long per process for the raw Kafka path; a change
    # through this edge drops it at once, one through another replica is seen at most this late (0: ask every batch)
    usage_target_cache_seconds: float = 5.0
