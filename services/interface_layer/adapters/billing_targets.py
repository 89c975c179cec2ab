"""Asks the billing factory which subscription bills each usage event (REST)."""

from __future__ import annotations

import httpx

from libs.platform.web import INTERNAL_TOKEN_HEADER, TENANT_HEADER
from services.interface_layer.app.ingest_usage import Target, UsageIn


class HttpUsageTargets:
    def __init__(self, client: httpx.AsyncClient, internal_token: str):
        self._client = client
        self._token = internal_token

    async def resolve(self, tenant_id: str, events: list[UsageIn], fingerprints: list[str]) -> list[Target]:
        items = [{"customer": e.customer, "metric": e.metric, "subscription": e.subscription, "event_id": e.event_id, "payload_hash": h}
                 for e, h in zip(events, fingerprints)]
        response = await self._client.post(
            "/internal/usage/resolve",
            json={"items": items},
            headers={TENANT_HEADER: tenant_id, INTERNAL_TOKEN_HEADER: self._token},
        )
        response.raise_for_status()
        return [Target(**r) for r in response.json()["results"]]
