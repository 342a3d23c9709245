#!/usr/bin/env bash
# The test command: services up, the domain crate free of I/O, then every test of the workspace
# against the real MariaDB and NATS.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/services.sh

# Each test makes its own database; drop what earlier runs left behind.
mysql_cmd=(mysql --protocol=socket -uispeaker -pispeaker -N)
"${mysql_cmd[@]}" -e "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'ispeaker\\_test\\_%'" |
  while read -r database; do "${mysql_cmd[@]}" -e "DROP DATABASE \`$database\`"; done

# Architecture invariant: domain never does I/O.
io_crates=$(cargo tree -p domain -e normal --prefix none --format '{p}' | awk '{print $1}' |
  grep -xE 'sqlx|sqlx-core|tokio|actix-web|async-nats|moka' || true)
if [ -n "$io_crates" ]; then
  echo "domain depends on I/O crates: $io_crates" >&2
  exit 1
fi
echo "domain is free of I/O crates"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --all-targets --locked 2>&1 | tee "$log" || status=$?
# One closing line for the whole workspace (cargo prints one per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;?$/) p += $i; if ($(i+1) ~ /^failed;?$/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
