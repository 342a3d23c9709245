#!/usr/bin/env bash
# The test command: services up, the domain crate free of I/O, then every test of the workspace
# against the real MariaDB and NATS.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/services.sh

# Each test makes its own database, named under this run's prefix (read by tests::TestDatabase
# and api/tests/sigterm.rs). Runs sharing one MariaDB each drop only their own databases, when
# the run ends however it ends. 8 hex digits keep names within MariaDB's 64 characters:
# 23 for the prefix, 32 for the test's UUID.
run_id=$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
export TEST_DATABASE_PREFIX="ispeaker_test_${run_id}_"
mysql_cmd=(mysql --protocol=socket -uispeaker -pispeaker -N)
drop_run_databases() {
  local pattern=${TEST_DATABASE_PREFIX//_/\\_}
  "${mysql_cmd[@]}" -e "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '${pattern}%'" |
    while read -r database; do "${mysql_cmd[@]}" -e "DROP DATABASE IF EXISTS \`$database\`"; done
}

log=$(mktemp)
tests_pid=""
finish() {
  local status=$?
  trap - EXIT INT TERM
  # An interrupted run stops its tests first: a test still running would create databases
  # after they were dropped.
  if [ -n "$tests_pid" ]; then
    kill -TERM -- "-$tests_pid" 2>/dev/null || true
    wait "$tests_pid" 2>/dev/null || true
  fi
  # The fan-out streams first: they are found through the databases.
  if [ -x "${CARGO_TARGET_DIR:-target}/debug/drop-run-streams" ]; then
    "${CARGO_TARGET_DIR:-target}/debug/drop-run-streams" || echo "could not delete this run's fan-out streams" >&2
  fi
  drop_run_databases || echo "could not drop this run's databases (${TEST_DATABASE_PREFIX}*)" >&2
  rm -f "$log"
  exit "$status"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
echo "this run's test databases: ${TEST_DATABASE_PREFIX}* (dropped when it ends)"

# Architecture invariant: domain never does I/O.
io_crates=$(cargo tree -p domain -e normal --prefix none --format '{p}' | awk '{print $1}' |
  grep -xE 'sqlx|sqlx-core|tokio|actix-web|async-nats|moka' || true)
if [ -n "$io_crates" ]; then
  echo "domain depends on I/O crates: $io_crates" >&2
  exit 1
fi
echo "domain is free of I/O crates"

# Architecture invariant: only api knows HTTP.
# Workspace crates only (they print their path): actix-ws, say, is built on actix-web by design.
http_crates=$(cargo tree -i actix-web -e normal --depth 1 --prefix none --workspace --format '{p}' | awk 'NR > 1 && /\(\// {print $1}' | sort -u)
if [ "$http_crates" != "api" ]; then
  echo "crates other than api depend on actix-web: $http_crates" >&2
  exit 1
fi
echo "only api depends on actix-web"

# Architecture invariant: domain has no clock and makes no random ids (domain/clippy.toml).
cargo clippy -p domain --lib --locked --quiet -- -D clippy::disallowed-methods
echo "domain takes its times and ids from commands"

# The tests run as a job of their own (job control gives it a process group), so that an
# interrupt can stop all of them — cargo, the test binaries and tee — before the clean-up.
set -m
(
  cargo test --workspace --all-targets --locked 2>&1 | tee "$log"
  exit "${PIPESTATUS[0]}"
) &
tests_pid=$!
set +m
status=0
wait "$tests_pid" || status=$?
tests_pid=""
# One closing line for the whole workspace (cargo prints one per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;?$/) p += $i; if ($(i+1) ~ /^failed;?$/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
