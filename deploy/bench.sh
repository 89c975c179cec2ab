#!/usr/bin/env bash
# Benchmarks against the real local servers; results (JSON + summary) land in bench/results/.
# PostgreSQL runs with fsync on here: durability is part of what is measured.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$REPO/deploy/install.sh"
cd "$REPO"
export CLOUDBILL_STATE_DIR="${CLOUDBILL_STATE_DIR:-$REPO/.state/bench-infra}" CLOUDBILL_PG_DURABLE=1
trap 'bash deploy/local/stack.sh down || true' EXIT
bash deploy/local/stack.sh up
set -a; source "$CLOUDBILL_STATE_DIR/env"; set +a
.venv/bin/python -m bench.rating_bench
.venv/bin/python -m bench.ledger_bench
.venv/bin/python -m bench.invoice_bench
.venv/bin/python -m bench.usage_bench
.venv/bin/python -m bench.prepaid_bench
.venv/bin/python -m bench.invoice_run "${CLOUDBILL_BENCH_CUSTOMERS:-10000}"  # about half an hour for 10,000 on 2 cores
