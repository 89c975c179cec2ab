"""openapi/ is the published contract: it must be exactly what the code serves."""

from cloudbill.openapi_export import ROOT, current_specs, render


def test_exported_specs_match_the_code():
    stale = [name for name, spec in current_specs().items() if (ROOT / f"{name}.json").read_text() != render(spec)]
    assert stale == [], f"run `.venv/bin/python -m cloudbill.openapi_export`; stale: {stale}"


def test_every_factory_route_is_reachable_through_the_edge():
    from services.interface_layer.entrypoints.proxy import owner_of

    specs = current_specs()
    for service in ("billing_factory", "invoice_factory", "payment_factory"):
        for path in specs[service]["paths"]:
            if path.startswith("/v1/"):
                assert owner_of(path[4:]) == service.split("_")[0], path
