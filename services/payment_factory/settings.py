"""Payment factory settings (env prefix CLOUDBILL_PAYMENT_)."""

from pydantic_settings import SettingsConfigDict

from libs.platform.settings import ServiceSettings


class PaymentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CLOUDBILL_PAYMENT_", extra="ignore")

    database_schema: str = "payment"
    kafka_group: str = "cloudbill-payment"
    port: int = 8003
    authorization_expiry_poll_seconds: float = 5.0
    # PostgreSQL: device authorizations from the event loop over an asynchronous connection (adapters/async_authorize.py);
    # off: every authorization runs in the thread pool through SQLAlchemy
    async_authorizations: bool = True

    # SEPA: our creditor account for direct debits (pain.008) and the account refunds and payouts leave from (pain.001)
    sepa_creditor_name: str | None = None
    sepa_creditor_iban: str | None = None
    sepa_creditor_bic: str | None = None
    sepa_creditor_id: str | None = None
    sepa_prenotification_days: int = 14
    # Stripe (api_base points at stripe-mock in tests), PayPal webhook verification and PayPal payments
    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    paypal_webhook_id: str | None = None
    # PayPal as a provider (REST app credentials); api_base is the sandbox unless set to https://api-m.paypal.com
    paypal_client_id: str | None = None
    paypal_client_secret: str | None = None
    paypal_api_base: str = "https://api-m.sandbox.paypal.com"
    paypal_payout_receiver: str | None = None  # our own PayPal account (email or payer id) that payouts go to
    daily_jobs: bool = True  # off in tests that drive collection and dunning with their own dates
    daily_poll_seconds: float = 3600.0
    hold_expiry_poll_seconds: float = 30.0  # how often the scheduled collection and dunning runs are attempted
