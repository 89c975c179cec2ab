"""docker-compose.yml parses, uses official server images, and every service variable is a real setting."""

from pathlib import Path

import yaml

from services.billing_factory.settings import BillingSettings
from services.interface_layer.settings import EdgeSettings
from services.invoice_factory.settings import InvoiceSettings
from services.payment_factory.settings import PaymentSettings

COMPOSE = yaml.safe_load((Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text())
SERVICES = {"interface-layer": EdgeSettings, "billing-factory": BillingSettings, "billing-usage-log": BillingSettings,
            "invoice-factory": InvoiceSettings, "payment-factory": PaymentSettings}


def test_servers_use_official_images():
    images = {name: svc.get("image", "") for name, svc in COMPOSE["services"].items()}
    assert images["postgres"].startswith("postgres:") and images["kafka"].startswith("apache/kafka:") and images["mongo"].startswith("mongo:")


def test_each_service_environment_names_only_its_own_settings():
    for name, settings_cls in SERVICES.items():
        svc = COMPOSE["services"][name]
        prefix = settings_cls.model_config["env_prefix"]
        fields = {f.upper() for f in settings_cls.model_fields}
        for var in svc["environment"]:
            assert var.startswith(prefix), f"{name}: {var} lacks {prefix}"
            assert var[len(prefix):] in fields, f"{name}: {var} is not a setting of {settings_cls.__name__}"
        assert svc["environment"][prefix + "MODE"] == "distributed"
        assert "deploy" not in svc or "replicas" not in svc["deploy"], "scale with --scale, no fixed replicas"
        assert "ports" not in svc or name == "interface-layer", f"{name} must not publish a host port (it would block --scale)"


def test_the_usage_log_writer_starts_from_its_compose_environment_without_a_database(monkeypatch):
    from services.billing_factory.usage_log import UsageLogSettings

    env = {k: str(v) for k, v in COMPOSE["services"]["billing-usage-log"]["environment"].items()}
    env["CLOUDBILL_BILLING_INTERNAL_TOKEN"] = "a-production-token"  # ${CLOUDBILL_INTERNAL_TOKEN} in the file
    assert "CLOUDBILL_BILLING_DATABASE_URL" not in env
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = UsageLogSettings()
    assert (settings.mode, settings.kafka_bootstrap, settings.usage_log_consumer) == ("distributed", "kafka:9092", True)
    api = COMPOSE["services"]["billing-factory"]["environment"]
    assert api["CLOUDBILL_BILLING_USAGE_LOG_CONSUMER"] == "false"  # the billing factories leave the log to it
