#!/usr/bin/env bash
# Starts a release server on a fresh benchmark database with limits that allow the load, runs
# every api-bench scenario against it (the catalogue ones publish 10,000 courses first; the feed
# ones build the social data set with social-data first: 10,000 users, ~1M follows, 100,000 posts),
# and stops it. Usage: scripts/api-bench.sh [clients] [seconds] ["scenario …"] (default: all of them)
set -euo pipefail
cd "$(dirname "$0")/.."
clients="${1:-32}"
seconds="${2:-10}"
scenarios="${3:-wallet-read top-up catalogue-search checkout invoice-lag invoice-read invoice-document feed feed-lag}"

./scripts/services.sh >/dev/null
mysql --protocol=socket -uispeaker -pispeaker -e "DROP DATABASE IF EXISTS ispeaker_api_bench; CREATE DATABASE ispeaker_api_bench"
cargo build --release --locked --bin ispeaker-api --bin api-bench --bin social-data
release="${CARGO_TARGET_DIR:-target}/release"

export PAYMENT_SANDBOX_SECRET="bench-sandbox-secret-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export BENCH_ADMIN_EMAIL=admin@bench.local BENCH_ADMIN_PASSWORD="Bench#Admin-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export DATABASE_URL="mysql://ispeaker:ispeaker@localhost/ispeaker_api_bench?socket=/run/mysqld/mysqld.sock"
export DATA_KEY_SECRET="bench-data-key-secret-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
NATS_URL=127.0.0.1:4222 HTTP_ADDR=127.0.0.1:18090 RUST_LOG=warn \
JWT_SECRET="bench-jwt-secret-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
SELLER_NAME_AR="شركة آي سبيكر لايف" SELLER_NAME_EN="iSpeaker Live Co." SELLER_VAT_NUMBER=310122393500003 \
SELLER_ADDRESS="King Fahd Road, Riyadh" JITSI_APP_ID=ispeaker-live JITSI_DOMAIN=meet.jit.si \
JITSI_APP_SECRET="bench-jitsi-secret-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" RATE_LIMIT_PER_MINUTE=1000000000 AUTH_RATE_LIMIT_PER_MINUTE=1000000000 \
BOOTSTRAP_ADMIN_EMAIL="$BENCH_ADMIN_EMAIL" BOOTSTRAP_ADMIN_PASSWORD="$BENCH_ADMIN_PASSWORD" \
  "$release/ispeaker-api" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18090/api/v1/health >/dev/null && break; sleep 0.2; done

case " $scenarios " in
  *" feed "*|*" feed-lag "*) "$release/social-data" --users 10000 --posts-per-user 10 ;;
esac
for scenario in $scenarios; do
  "$release/api-bench" --url http://127.0.0.1:18090/api/v1 --scenario "$scenario" --clients "$clients" --seconds "$seconds"
done
