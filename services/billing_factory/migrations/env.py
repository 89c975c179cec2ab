"""Alembic environment of the billing_factory (see libs/platform/migrations.py)."""

from libs.platform.migrations import run_env
from services.billing_factory.adapters import tables  # noqa: F401  (registers every table on the metadata)
from services.billing_factory.adapters.metadata import metadata

run_env(metadata)
