"""Settings every service shares; each service subclasses with its own env prefix.

`mode=embedded` picks SQLite, the in-process bus, the embedded document store and
a local archive folder; `mode=distributed` needs the real servers. Production
(`environment=production`) refuses the embedded adapters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLOUDBILL_", extra="ignore")

    mode: Literal["embedded", "distributed"] = "embedded"
    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("var")
    host: str = "127.0.0.1"
    port: int = 8000

    database_url: str | None = None  # postgresql+psycopg://... ; SQLite file in data_dir when unset
    database_schema: str = "public"
    kafka_bootstrap: str | None = None
    kafka_group: str = "cloudbill"
    kafka_topic_prefix: str = ""
    mongo_url: str | None = None
    mongo_database: str = "cloudbill"
    s3_endpoint: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_region: str = "us-east-1"
    s3_bucket: str = "cloudbill-archive"

    internal_token: str = "dev-internal-token"  # services trust the edge only with this token
    max_body_bytes: int = 1_048_576
    log_level: str = "INFO"
    # young objects between the collector's runs (Python's default is 700; 0 keeps it): see serve.tune_garbage_collector
    gc_young_threshold: int = 50_000
    crash_at: str | None = None  # fault injection for tests only (libs/platform/faults.py)

    @model_validator(mode="after")
    def _distributed_needs_servers(self) -> "ServiceSettings":
        if self.mode == "distributed":
            missing = [n for n in self.required_servers() if getattr(self, n) in (None, "")]
            if missing:
                raise ValueError(f"distributed mode needs settings: {', '.join(missing)}")
        if self.environment == "production":
            if self.mode == "embedded":
                raise ValueError("production refuses the embedded adapters; set mode=distributed")
            if self.crash_at:
                raise ValueError("crash_at is for fault-injection tests only")
            if self.internal_token == "dev-internal-token":
                raise ValueError("production needs its own internal_token")
        return self

    def required_servers(self) -> list[str]:
        return ["database_url", "kafka_bootstrap"]
