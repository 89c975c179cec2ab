#!/usr/bin/env bash
# Command 1: install and run the whole platform in one process (SQLite, in-process bus,
# embedded document store, local archive) with a demo tenant.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$REPO/deploy/install.sh"
cd "$REPO"
exec .venv/bin/cloudbill run "$@"
