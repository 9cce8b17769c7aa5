# Shared by ci/dev, ci/test and ci/bench: install what is missing (idempotently) and start the
# local dependencies. Sourced, not run.
#
# Locations:
#   .state/                         git-ignored local state: broker data, logs, pids, keys
#   $RESTAURANT_CACHE               outside the clone, reused across clones and CI runs
#     (default ~/.cache/restaurant)  target/ (cargo builds), tools/ (the dev broker)

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE="$ROOT/.state"
CACHE="${RESTAURANT_CACHE:-${HOME:-/root}/.cache/restaurant}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
TANSU_VERSION=0.6.0
export TANSU_BIN="${TANSU_BIN:-$CACHE/tools/tansu-$TANSU_VERSION/bin/tansu}"
mkdir -p "$STATE/logs" "$CACHE"

# Things this script started, stopped again by `stop_started` (ci/dev calls it on exit).
STARTED_PIDS=()
STARTED_PG_CLUSTER=""

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# `phase NAME command...`: runs the command and records how long it took.
PHASES=()
phase() {
  local name=$1 start end
  shift
  start=$(date +%s)
  log "$name"
  "$@"
  end=$(date +%s)
  PHASES+=("$(printf '%-28s %5ss' "$name" "$((end - start))")")
}
print_phases() {
  log "time per phase"
  printf '  %s\n' "${PHASES[@]}" >&2
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=""
# `ensure_packages PKG...`: installs the Debian packages that are not installed yet.
ensure_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  if [ -z "$APT_UPDATED" ]; then
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Tools the build and tests need beyond Rust: a C toolchain and OpenSSL's headers for librdkafka
# (its SASL/SCRAM needs OpenSSL), PostgreSQL.
ensure_build_tools() {
  ensure_packages build-essential pkg-config libssl-dev ca-certificates curl
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# `wait_for_port HOST PORT SECONDS WHAT`
wait_for_port() {
  local deadline=$((SECONDS + $3))
  until port_open "$1" "$2"; do
    if [ $SECONDS -ge $deadline ]; then
      log "$4 did not listen on $1:$2 within $3 s"
      return 1
    fi
    sleep 0.2
  done
}

# PostgreSQL from Debian's packages, the packaged cluster, a superuser role for the current
# OS user (peer authentication over the Unix socket: no password to keep anywhere) and the
# `restaurant` database. Exports DATABASE_URL unless it is already set.
ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then
    log "using DATABASE_URL from the environment"
    return 0
  fi
  ensure_packages postgresql postgresql-contrib
  command -v runuser >/dev/null || ensure_packages util-linux
  [ "$(id -u)" = 0 ] || command -v sudo >/dev/null || ensure_packages sudo
  local version
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  if ! pg_lsclusters -h | awk '{print $1, $2}' | grep -q "^$version main$"; then
    as_root pg_createcluster "$version" main
  fi
  if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $4}' | grep -q online; then
    log "starting PostgreSQL $version"
    as_root pg_ctlcluster "$version" main start
    STARTED_PG_CLUSTER="$version"
  fi
  local user
  user=$(id -un)
  as_postgres psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname = '$user'" | grep -q 1 ||
    as_postgres psql -qc "CREATE ROLE \"$user\" LOGIN SUPERUSER"
  as_postgres psql -qtAc "SELECT 1 FROM pg_database WHERE datname = 'restaurant'" | grep -q 1 ||
    as_postgres psql -qc "CREATE DATABASE restaurant OWNER \"$user\""
  export DATABASE_URL="host=/var/run/postgresql user=$user dbname=restaurant"
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

# The dev broker, built once into the cache (about 30 minutes of compile the first time).
ensure_tansu() {
  [ -x "$TANSU_BIN" ] && return 0
  log "building the dev broker tansu $TANSU_VERSION into $CACHE/tools (first time only, ~30 min)"
  CARGO_TARGET_DIR="$CACHE/tansu-target" cargo install tansu --version "$TANSU_VERSION" --locked \
    --features dynostore,libsql --root "$CACHE/tools/tansu-$TANSU_VERSION"
}

# A Kafka-API broker: KAFKA_BROKERS if set; else Redpanda if installed; else tansu on its SQLite
# engine (never memory://: it loses records after a mid-batch resume; see ARCHITECTURE.md).
# Exports KAFKA_BROKERS.
ensure_broker() {
  if [ -n "${KAFKA_BROKERS:-}" ]; then
    log "using KAFKA_BROKERS=$KAFKA_BROKERS from the environment"
    return 0
  fi
  export KAFKA_BROKERS=127.0.0.1:9092
  if port_open 127.0.0.1 9092; then
    log "a broker already listens on 127.0.0.1:9092; using it"
    index_dev_broker
    return 0
  fi
  if command -v rpk >/dev/null; then
    log "starting Redpanda"
    mkdir -p "$STATE/redpanda"
    rpk redpanda start --mode dev-container --smp 1 --memory 1G --overprovisioned \
      --kafka-addr 127.0.0.1:9092 --advertise-kafka-addr 127.0.0.1:9092 \
      --config "$STATE/redpanda/redpanda.yaml" >"$STATE/logs/broker.log" 2>&1 &
    STARTED_PIDS+=($!)
  else
    ensure_tansu
    log "starting tansu on 127.0.0.1:9092 (data in .state/broker)"
    mkdir -p "$STATE/broker"
    (cd "$STATE/broker" && exec "$TANSU_BIN" broker \
      --listener-url tcp://127.0.0.1:9092 --advertised-listener-url tcp://127.0.0.1:9092 \
      --storage-engine sqlite://broker.db) >"$STATE/logs/broker.log" 2>&1 &
    STARTED_PIDS+=($!)
    echo $! >"$STATE/broker.pid"
  fi
  wait_for_port 127.0.0.1 9092 60 "the broker"
  index_dev_broker
}

# The header index on the dev broker, if it is our tansu (not Redpanda, not KAFKA_BROKERS).
index_dev_broker() {
  if [ -f "$STATE/broker/broker.db" ] && [ -z "$(command -v rpk)" ]; then index_tansu_headers "$STATE/broker"; fi
}

# `index_tansu_headers DIR`, once the tansu in DIR listens (it makes its tables before it
# listens). tansu 0.6.0's SQLite schema has no index for its own join from a record to its
# headers: every record fetched with headers (ours carry the event type and traceparent)
# scanned the whole `header` table — 6.3 ms per record at 42,000 headers and growing with every
# record kept — until the broker stalled under load (ci/BENCHMARKS.md, 2026-12-03). With the
# index, 0.02 ms. `IF NOT EXISTS`: the index stays in the database across restarts.
index_tansu_headers() {
  ensure_packages sqlite3
  sqlite3 -cmd ".timeout 10000" "$1/broker.db" \
    "CREATE INDEX IF NOT EXISTS header_record ON header (topition, offset_id)" >/dev/null
}

stop_started() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${STARTED_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  STARTED_PIDS=()
  if [ -n "$STARTED_PG_CLUSTER" ]; then
    as_root pg_ctlcluster "$STARTED_PG_CLUSTER" main stop || true
    STARTED_PG_CLUSTER=""
  fi
}

# `start_stack BIN_DIR`: key material (generated once into .state/keys), the local kitchen
# account, and the four services from BIN_DIR, waiting until each listens. `stop_stack` ends
# them. Used by ci/dev (debug builds) and ci/bench (release builds).
SERVICE_PIDS=()
start_stack() {
  local bin=$1 keys="$STATE/keys" service
  "$bin/users" generate-keys "$keys"
  # Each service's credential, exchanged with users for 15-minute service tokens.
  for service in gateway orders kitchen; do
    if [ ! -s "$keys/$service.credential" ]; then
      (umask 077 && TOKEN_PRIVATE_KEY_FILE="$keys/token-private.hex" \
        "$bin/users" mint-service-token "$service" >"$keys/$service.credential")
    fi
  done
  export TOKEN_PUBLIC_KEY_FILE="$keys/token-public.hex"
  # The local kitchen account (local runs only; production sets its own credentials). Its
  # password meets the customers' minimum (8 characters), as every staff password must.
  KITCHEN_USERNAME="${KITCHEN_USERNAME:-kitchen}"
  STAFF_PASSWORD="${KITCHEN_PASSWORD:-kitchen-local}" TOKEN_PRIVATE_KEY_FILE="$keys/token-private.hex" \
    "$bin/users" create-staff "$KITCHEN_USERNAME"
  start_service "$bin" users TOKEN_PRIVATE_KEY_FILE="$keys/token-private.hex"
  start_service "$bin" orders SERVICE_TOKEN_FILE="$keys/orders.credential"
  start_service "$bin" kitchen SERVICE_TOKEN_FILE="$keys/kitchen.credential"
  start_service "$bin" gateway SERVICE_TOKEN_FILE="$keys/gateway.credential" WEB_ASSETS_DIR="$ROOT/services/web/dist"
  wait_for_port 127.0.0.1 8083 60 users
  wait_for_port 127.0.0.1 8080 60 orders
  wait_for_port 127.0.0.1 8081 60 kitchen
  wait_for_port 127.0.0.1 8082 60 gateway
}

start_service() {
  local bin=$1 service=$2
  shift 2
  env "$@" "$bin/$service" >"$STATE/logs/$service.log" 2>&1 &
  SERVICE_PIDS+=($!)
  echo $! >"$STATE/$service.pid"
}

stop_stack() {
  local pid
  for pid in "${SERVICE_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${SERVICE_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  SERVICE_PIDS=()
}

# The web UI: node packages from the lock file, then a production build into services/web/dist
# (which the gateway serves). Node 20 comes with the machine; Debian's is the fallback.
build_web() {
  command -v npm >/dev/null || ensure_packages nodejs npm
  (cd "$ROOT/services/web" && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)
}

# Debian's Chromium for the browser tests (never a browser download).
ensure_chromium() {
  ensure_packages chromium fonts-dejavu-core
}

# Monitoring: Debian's Prometheus (it ships promtool) and blackbox exporter. Their packages try
# to start system services, which a container refuses (harmless); `start_monitoring` runs its own.
ensure_prometheus() {
  ensure_packages prometheus prometheus-blackbox-exporter
  if ! command -v promtool >/dev/null; then
    log "promtool is not on PATH after installing Debian's prometheus (expected /usr/bin/promtool)"
    return 1
  fi
}

# Debian's nginx, for `nginx -t` on compose's proxy configuration (shared/system-tests/tests/
# compose.rs); its package may try to start a system service, which a container refuses
# (harmless): the test runs only `nginx -t`, never a server.
ensure_nginx() {
  ensure_packages nginx openssl
  if [ ! -x /usr/sbin/nginx ]; then
    log "nginx is not at /usr/sbin/nginx after installing Debian's nginx"
    return 1
  fi
}

PROMETHEUS_PORT="${PROMETHEUS_PORT:-9090}"
BLACKBOX_PORT="${BLACKBOX_PORT:-9115}"

# `write_local_prometheus_config FILE`: compose/prometheus/prometheus.yml for the local stack:
# the same jobs and the same rule files, with static targets on the services' local ops ports
# (`<SERVICE>_OPS_PORT`: /metrics and the detailed /readyz live there, not on the public ports)
# and readiness probed by a local blackbox exporter.
write_local_prometheus_config() {
  local file=$1 job port readiness=""
  mkdir -p "$(dirname "$file")"
  {
    cat <<YAML
# Written by ci/dev --ops (ci/lib.sh write_local_prometheus_config); compose's twin is
# compose/prometheus/prometheus.yml.
global:
  scrape_interval: 5s
  evaluation_interval: 5s
rule_files:
  - $ROOT/compose/prometheus/rules/*.yml
scrape_configs:
YAML
    for job in orders:9180 kitchen:9181 gateway:9182 users:9183; do
      port=${job#*:}
      job=${job%:*}
      printf '  - job_name: %s\n    static_configs: [{ targets: ["127.0.0.1:%s"] }]\n' "$job" "$port"
      readiness+=$(printf '\n      - { targets: ["127.0.0.1:%s"], labels: { service: %s } }' "$port" "$job")
    done
    cat <<YAML
  - job_name: readiness
    metrics_path: /probe
    params: { module: [http_ready] }
    static_configs:$readiness
    relabel_configs:
      - { source_labels: [__address__], target_label: __param_target, replacement: "http://\$1/readyz" }
      - { source_labels: [__address__], target_label: instance }
      - { target_label: __address__, replacement: "127.0.0.1:$BLACKBOX_PORT" }
  - job_name: prometheus
    static_configs: [{ targets: ["127.0.0.1:$PROMETHEUS_PORT"] }]
YAML
  } >"$file"
}

# Prometheus and the blackbox exporter against the local stack (ci/dev --ops), with the rules
# and alerts of compose/prometheus/rules; data in .state/prometheus. Stopped by `stop_started`.
start_monitoring() {
  local dir="$STATE/prometheus" port
  write_local_prometheus_config "$dir/prometheus.yml"
  promtool check config "$dir/prometheus.yml" >/dev/null
  for port in "$PROMETHEUS_PORT" "$BLACKBOX_PORT"; do
    if port_open 127.0.0.1 "$port"; then
      log "something already listens on 127.0.0.1:$port (Debian's own prometheus service?): stop it, or set PROMETHEUS_PORT / BLACKBOX_PORT"
      return 1
    fi
  done
  prometheus-blackbox-exporter --config.file="$ROOT/compose/prometheus/blackbox.yml" \
    --web.listen-address="127.0.0.1:$BLACKBOX_PORT" >"$STATE/logs/blackbox.log" 2>&1 &
  STARTED_PIDS+=($!)
  prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" >"$STATE/logs/prometheus.log" 2>&1 &
  STARTED_PIDS+=($!)
  wait_for_port 127.0.0.1 "$BLACKBOX_PORT" 30 "the blackbox exporter"
  wait_for_port 127.0.0.1 "$PROMETHEUS_PORT" 30 prometheus
}
