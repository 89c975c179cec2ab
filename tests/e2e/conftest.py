"""Four services (and the usage log writer) as separate processes over the real servers (deploy/local/stack.sh)."""

import os
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.processes import cluster_env

SERVERS = ("CLOUDBILL_PG_URL", "CLOUDBILL_KAFKA_BOOTSTRAP", "CLOUDBILL_MONGO_URL", "CLOUDBILL_S3_ENDPOINT")


def require_servers() -> None:
    missing = [n for n in SERVERS if not os.environ.get(n)]
    if missing:
        if os.environ.get("CLOUDBILL_REQUIRE_INFRA") == "1":
            pytest.fail(f"missing {missing}: the real servers are required")
        pytest.skip(f"missing {missing}: start the real servers with deploy/local/stack.sh up")


@contextmanager
def started_cluster(log_dir: Path, edge_env: dict[str, str] | None = None):
    """The four services and the usage log writer started (the edge last, with `edge_env` added) and ready; stopped on leaving."""
    require_servers()
    cl = cluster_env(log_dir)
    cl.services["interface_layer"].env.update(edge_env or {})
    try:
        cl.start()
        yield cl
    finally:
        cl.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with started_cluster(tmp_path_factory.mktemp("cluster")) as cl:
        yield cl


@pytest.fixture(scope="module")
def tenant_client(cluster):
    created = httpx.post(f"{cluster.edge_url}/v1/tenants", json={"name": "E2E GmbH"},
                         headers={"X-Cloudbill-Admin-Token": cluster.admin_token}, timeout=30)
    assert created.status_code == 201, created.text
    with httpx.Client(base_url=cluster.edge_url, headers={"Authorization": f"Bearer {created.json()['api_key']}"}, timeout=60) as client:
        client.tenant_id = created.json()["id"]
        yield client
