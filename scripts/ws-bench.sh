#!/usr/bin/env bash
# Starts a release server on a fresh benchmark database, runs ws-bench against it (5,000 sockets,
# 500 chat messages a second for 30 seconds by default), then times a rebuild of the
# notifications projection from the log that load wrote. Usage:
# scripts/ws-bench.sh [sockets] [rate] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
sockets="${1:-5000}"
rate="${2:-500}"
seconds="${3:-30}"

./scripts/services.sh >/dev/null
mysql --protocol=socket -uispeaker -pispeaker -e "DROP DATABASE IF EXISTS ispeaker_ws_bench; CREATE DATABASE ispeaker_ws_bench"
cargo build --release --locked --bin ispeaker-api --bin ws-bench --bin ispeaker-replay
release="${CARGO_TARGET_DIR:-target}/release"
# A socket is a file descriptor on each side.
ulimit -n "$(ulimit -Hn)"

export DATABASE_URL="mysql://ispeaker:ispeaker@localhost/ispeaker_ws_bench?socket=/run/mysqld/mysqld.sock"
export DATA_KEY_SECRET="bench-data-key-secret-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export JWT_SECRET="bench-jwt-secret-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
NATS_URL=127.0.0.1:4222 HTTP_ADDR=127.0.0.1:18091 RUST_LOG=warn \
PAYMENT_SANDBOX_SECRET="bench-sandbox-secret-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
SELLER_NAME_AR="شركة آي سبيكر لايف" SELLER_NAME_EN="iSpeaker Live Co." SELLER_VAT_NUMBER=310122393500003 \
SELLER_ADDRESS="King Fahd Road, Riyadh" JITSI_APP_ID=ispeaker-live JITSI_DOMAIN=meet.jit.si \
JITSI_APP_SECRET="bench-jitsi-secret-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
RATE_LIMIT_PER_MINUTE=1000000000 AUTH_RATE_LIMIT_PER_MINUTE=1000000000 \
  "$release/ispeaker-api" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18091/api/v1/health >/dev/null && break; sleep 0.2; done

"$release/ws-bench" --url http://127.0.0.1:18091/api/v1 --sockets "$sockets" --rate "$rate" --seconds "$seconds" --server-pid "$server"

# The notifications projector's throughput: a rebuild folds the whole log into fresh tables.
events=$(mysql --protocol=socket -uispeaker -pispeaker -N -e "SELECT COUNT(*) FROM ispeaker_ws_bench.events")
started=$(date +%s.%N)
"$release/ispeaker-replay" rebuild notifications
finished=$(date +%s.%N)
notifications=$(mysql --protocol=socket -uispeaker -pispeaker -N -e "SELECT COUNT(*) FROM ispeaker_ws_bench.notifications")
awk -v e="$events" -v n="$notifications" -v s="$started" -v f="$finished" \
  'BEGIN { printf "{\"notifications_rebuild\": {\"events\": %d, \"notifications\": %d, \"seconds\": %.2f, \"events_per_second\": %d}}\n", e, n, f - s, e / (f - s) }'
