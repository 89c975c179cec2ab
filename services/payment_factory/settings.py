"""Payment factory settings (env prefix CLOUDBILL_PAYMENT_)."""

from pydantic_settings import SettingsConfigDict

from libs.platform.settings import ServiceSettings


class PaymentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CLOUDBILL_PAYMENT_", extra="ignore")

    database_schema: str = "payment"
    kafka_group: str = "cloudbill-payment"
    port: int = 8003
    authorization_expiry_poll_seconds: float = 5.0
