"""Billing factory settings (env prefix CLOUDBILL_BILLING_)."""

from pydantic_settings import SettingsConfigDict

from libs.platform.settings import ServiceSettings


class BillingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CLOUDBILL_BILLING_", extra="ignore")

    database_schema: str = "billing"
    kafka_group: str = "cloudbill-billing"
    usage_log_group: str = "cloudbill-usage-log"
    usage_log_consumer: bool = True  # false where `python -m services.billing_factory.usage_log` writes the log (usage_log.py)
    port: int = 8001
    usage_batch_size: int = 2000
    # the raw usage log is off the hot path: its consumer gathers up to this long per fetch, so a partition's events of
    # that time share one document (the document store's cost is mostly per document)
    usage_log_gather_ms: int = 1000
    billing_run_chunk: int = 200  # subscriptions per transaction of a billing run
    billing_run_sync_chunks: int = 1  # chunks billed inside the request; a larger run answers 202 and continues in the worker
    billing_run_poll_seconds: float = 2.0

    def required_servers(self) -> list[str]:
        return ["database_url", "kafka_bootstrap", "mongo_url"]
