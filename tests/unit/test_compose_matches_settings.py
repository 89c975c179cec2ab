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
