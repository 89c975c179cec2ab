"""Twins: each contract test runs against the embedded adapter and the real server."""

import os

import pytest


def require_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        if os.environ.get("CLOUDBILL_REQUIRE_INFRA") == "1":
            pytest.fail(f"{name} is not set but the real servers are required (deploy/local/infra.sh up)")
        pytest.skip(f"{name} not set: start the real servers with deploy/local/infra.sh up")
    return value
