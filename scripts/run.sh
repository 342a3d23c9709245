#!/usr/bin/env bash
# Sets up and runs the server on this machine: installs and starts MariaDB and NATS when missing,
# creates the database and a .env with fresh secrets, then starts ispeaker-api, which migrates
# and seeds demo data. Ctrl-C (SIGINT) or SIGTERM stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/services.sh
mysql --protocol=socket -uispeaker -pispeaker -e "CREATE DATABASE IF NOT EXISTS ispeaker"

if [ ! -f .env ]; then
  secret() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
  cat > .env <<ENV
DATABASE_URL=mysql://ispeaker:ispeaker@localhost/ispeaker?socket=/run/mysqld/mysqld.sock
NATS_URL=127.0.0.1:4222
HTTP_ADDR=127.0.0.1:8080
JWT_SECRET=$(secret)
PAYMENT_SANDBOX_SECRET=$(secret)
BOOTSTRAP_ADMIN_EMAIL=admin@ispeaker.local
BOOTSTRAP_ADMIN_PASSWORD=Admin#2026pass
SEED_DEMO_DATA=1
SANDBOX_CHECKOUT=1
ENV
  echo "[run] wrote .env (development secrets)"
fi

cargo build --release --locked --bin ispeaker-api --bin ispeaker-replay
exec ./target/release/ispeaker-api
