"""Invoice factory settings (env prefix CLOUDBILL_INVOICE_)."""

from pydantic_settings import SettingsConfigDict

from libs.platform.settings import ServiceSettings


class InvoiceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CLOUDBILL_INVOICE_", extra="ignore")

    database_schema: str = "invoice"
    kafka_group: str = "cloudbill-invoice"
    port: int = 8002
    public_base_url: str = "http://127.0.0.1:8000"
    retention_years: int = 8  # GoBD / AO §147 since 2025: invoices 8 years
    archive_poll_seconds: float = 0.5
    render_workers: int = 0  # 0 = render in the archive thread; N = a process pool of N
    smtp_host: str | None = None  # e-mail dispatch is off without it
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "invoices@cloudbill.invalid"

    def required_servers(self) -> list[str]:
        return ["database_url", "kafka_bootstrap", "mongo_url", "s3_endpoint"]
