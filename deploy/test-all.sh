#!/usr/bin/env bash
# Command 2: install, start the real servers (PostgreSQL, Kafka, FerretDB, SeaweedFS),
# run the whole test suite against them, and stop them again whatever happens.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$REPO/deploy/install.sh"
# poppler-utils: the PDF tests rasterize an invoice page with pdftoppm (a test tool, not a runtime dependency)
if ! command -v pdftoppm >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends poppler-utils >/dev/null
fi
cd "$REPO"
export CLOUDBILL_STATE_DIR="${CLOUDBILL_STATE_DIR:-$REPO/.state/infra}"
cleanup() { bash "$REPO/deploy/local/stack.sh" down || true; }
trap cleanup EXIT
bash "$REPO/deploy/local/stack.sh" up
set -a; source "$CLOUDBILL_STATE_DIR/env"; set +a
export CLOUDBILL_REQUIRE_INFRA=1
export CLOUDBILL_RULES_DIR="$(bash "$REPO/deploy/local/rules.sh")"
.venv/bin/lint-imports
.venv/bin/pytest -p no:cacheprovider "$@"
