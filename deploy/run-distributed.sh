#!/usr/bin/env bash
# Run the four services as separate processes against the local servers from deploy/local/stack.sh.
# Ports 8000 (edge) to 8003, 8004 the usage log writer; stop with Ctrl-C (each service is stopped by its PID).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${CLOUDBILL_STATE_DIR:-$REPO/.state/infra}"
[ -f "$STATE/env" ] || { echo "start the servers first: bash deploy/local/stack.sh up" >&2; exit 1; }
set -a; source "$STATE/env"; set +a
cd "$REPO"
INTERNAL="${CLOUDBILL_INTERNAL_TOKEN:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')}"
ADMIN="${CLOUDBILL_ADMIN_TOKEN:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')}"
LOGS="$REPO/var/distributed"; mkdir -p "$LOGS"
pids=()
start() {  # module, env prefix, port, extra env...
  local module=$1 p=$2 port=$3; shift 3
  env "${p}MODE=distributed" "${p}PORT=$port" "${p}INTERNAL_TOKEN=$INTERNAL" "${p}DATABASE_URL=$CLOUDBILL_PG_URL" \
      "${p}KAFKA_BOOTSTRAP=$CLOUDBILL_KAFKA_BOOTSTRAP" "${p}MONGO_URL=$CLOUDBILL_MONGO_URL" "${p}S3_ENDPOINT=$CLOUDBILL_S3_ENDPOINT" \
      "${p}S3_ACCESS_KEY=$CLOUDBILL_S3_ACCESS_KEY" "${p}S3_SECRET_KEY=$CLOUDBILL_S3_SECRET_KEY" "${p}DATA_DIR=$LOGS/$module" "$@" \
      .venv/bin/python -m "services.$module" >"$LOGS/$module.log" 2>&1 &
  pids+=($!)
}
trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM
start billing_factory CLOUDBILL_BILLING_ 8001 CLOUDBILL_BILLING_USAGE_LOG_CONSUMER=false
start billing_factory.usage_log CLOUDBILL_BILLING_ 8004  # the raw usage log in its own process
start invoice_factory CLOUDBILL_INVOICE_ 8002 CLOUDBILL_INVOICE_PUBLIC_BASE_URL=http://127.0.0.1:8000 CLOUDBILL_INVOICE_RENDER_WORKERS="$(nproc)"
start payment_factory CLOUDBILL_PAYMENT_ 8003
start interface_layer CLOUDBILL_EDGE_ 8000 CLOUDBILL_EDGE_ADMIN_TOKEN="$ADMIN" CLOUDBILL_EDGE_BILLING_URL=http://127.0.0.1:8001 \
      CLOUDBILL_EDGE_INVOICE_URL=http://127.0.0.1:8002 CLOUDBILL_EDGE_PAYMENT_URL=http://127.0.0.1:8003
for port in 8001 8004 8002 8003 8000; do
  for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.2; done
done
echo "cloudbill (distributed) on http://127.0.0.1:8000, logs in $LOGS"
echo "create a tenant: curl -X POST http://127.0.0.1:8000/v1/tenants -H 'X-Cloudbill-Admin-Token: $ADMIN' -H 'content-type: application/json' -d '{\"name\": \"My GmbH\"}'"
wait
