"""One API reference for users: the edge's own spec merged with the factories' public /v1 paths.

The factories' specs are fetched once they answer (they may start after
the edge), and every path is documented with the Bearer API key the edge
checks. openapi/<service>.json keeps each service's own spec.
"""

from __future__ import annotations

import asyncio
import copy
import logging

from fastapi import FastAPI

log = logging.getLogger(__name__)


def merge_specs(edge: dict, factories: list[dict]) -> dict:
    merged = copy.deepcopy(edge)
    components = merged.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for spec in factories:
        for path, item in spec.get("paths", {}).items():
            if path.startswith("/v1/"):
                merged["paths"].setdefault(path, item)
        for name, schema in spec.get("components", {}).get("schemas", {}).items():
            schemas.setdefault(name, schema)
    components["securitySchemes"] = {"apiKey": {"type": "http", "scheme": "bearer", "description": "cb_... API key of the tenant"}}
    merged["security"] = [{"apiKey": []}]
    return merged


def install_merged_docs(app: FastAPI, clients: dict) -> asyncio.Task | None:
    """Replace app.openapi with the merged spec once every factory's spec was fetched."""
    fetched: dict[str, dict] = {}
    own = app.openapi

    def openapi() -> dict:
        if len(fetched) < len(clients):
            return own()
        if not getattr(app, "_merged_spec", None):
            app._merged_spec = merge_specs(own(), list(fetched.values()))
        return app._merged_spec

    async def fetch() -> None:
        for _ in range(120):
            for name, client in clients.items():
                if name not in fetched:
                    try:
                        response = await client.get("/openapi.json")
                        if response.status_code == 200:
                            fetched[name] = response.json()
                    except Exception as exc:  # the factory is not up yet; try again shortly
                        log.debug("no spec from %s yet: %s", name, exc)
            if len(fetched) == len(clients):
                return
            await asyncio.sleep(1.0)

    app.openapi = openapi
    return asyncio.get_running_loop().create_task(fetch(), name="fetch-factory-specs")
