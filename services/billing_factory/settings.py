"""Billing factory settings (env prefix CLOUDBILL_BILLING_)."""

from pydantic_settings import SettingsConfigDict

from libs.platform.settings import ServiceSettings


class BillingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CLOUDBILL_BILLING_", extra="ignore")

    database_schema: str = "billing"
    kafka_group: str = "cloudbill-billing"
    usage_log_group: str = "cloudbill-usage-log"
    port: int = 8001
    usage_batch_size: int = 2000

    def required_servers(self) -> list[str]:
        return ["database_url", "kafka_bootstrap", "mongo_url"]
