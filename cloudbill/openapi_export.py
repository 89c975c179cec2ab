"""Write each service's OpenAPI spec to openapi/<service>.json (a test keeps them in sync)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "openapi"


def current_specs() -> dict[str, dict]:
    from cloudbill.embedded import build_platform

    with tempfile.TemporaryDirectory() as tmp:
        platform = build_platform(Path(tmp))
        from services.billing_factory.entrypoints.http import create_app as billing
        from services.invoice_factory.entrypoints.http import create_app as invoice
        from services.payment_factory.entrypoints.http import create_app as payment

        return {
            "interface_layer": platform.app.openapi(),
            "billing_factory": billing(platform.billing).openapi(),
            "invoice_factory": invoice(platform.invoice).openapi(),
            "payment_factory": payment(platform.payment).openapi(),
        }


def render(spec: dict) -> str:
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    ROOT.mkdir(exist_ok=True)
    for name, spec in current_specs().items():
        (ROOT / f"{name}.json").write_text(render(spec))
        print(f"wrote openapi/{name}.json")


if __name__ == "__main__":
    main()
