"""Alembic environment of the interface_layer (see libs/platform/migrations.py)."""

from libs.platform.migrations import run_env
from services.interface_layer.adapters import tables  # noqa: F401  (registers every table on the metadata)
from services.interface_layer.adapters.metadata import metadata

run_env(metadata)
