#!/usr/bin/env bash
# Sets up and runs the server on this machine: installs and starts MariaDB and NATS when missing,
# writes a .env with fresh secrets (or adds the keys an existing one lacks, changing none),
# creates the database it names, checks that HTTP_ADDR's port is free, builds, then starts
# ispeaker-api, which migrates and seeds demo data. Once the server answers, it prints where
# everything is.
# Ctrl-C (SIGINT) or SIGTERM is passed on to the server, which stops cleanly; the script exits
# with the server's status.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[run] %s\n' "$*"; }

./scripts/services.sh

secret() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# The first admin's password: 24 random characters with an upper-case letter, a digit and a
# symbol, as the password rule asks; no '$', '#' or quotes, which .env readers treat specially.
admin_password() {
  local password
  while :; do
    password=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
    if [[ $password =~ [A-Z] && $password =~ [0-9] && $password =~ [-_] ]]; then
      printf '%s' "$password"
      return
    fi
  done
}

created=""
if [ ! -f .env ]; then
  printf '# Development settings written by scripts/run.sh; its secrets are fresh and random.\n' > .env
  created=1
elif [ -n "$(tail -c 1 .env)" ]; then
  echo >> .env # so that an added key starts a line of its own
fi
# Adds KEY=VALUE unless .env has KEY: an existing value, and so an existing secret, never changes.
ensure() {
  if ! grep -q "^$1=" .env; then
    printf '%s=%s\n' "$1" "$2" >> .env
    [ -n "$created" ] || log "added $1 to .env"
  fi
}
ensure DATABASE_URL 'mysql://ispeaker:ispeaker@localhost/ispeaker?socket=/run/mysqld/mysqld.sock'
ensure NATS_URL 127.0.0.1:4222
ensure HTTP_ADDR 127.0.0.1:8080
ensure JWT_SECRET "$(secret)"
ensure PAYMENT_SANDBOX_SECRET "$(secret)"
ensure DATA_KEY_SECRET "$(secret)"
ensure BOOTSTRAP_ADMIN_EMAIL admin@ispeaker.local
ensure BOOTSTRAP_ADMIN_PASSWORD "$(admin_password)"
ensure SELLER_NAME_AR '"شركة آي سبيكر لايف"'
ensure SELLER_NAME_EN '"iSpeaker Live Co."'
ensure SELLER_VAT_NUMBER 310122393500003
ensure SELLER_ADDRESS '"King Fahd Road, Riyadh 12271, Saudi Arabia"'
ensure JITSI_APP_ID ispeaker-live
ensure JITSI_APP_SECRET "$(secret)"
ensure JITSI_DOMAIN meet.jit.si
ensure SEED_DEMO_DATA 1
ensure SANDBOX_CHECKOUT 1
[ -z "$created" ] || log "wrote .env (development settings, fresh secrets)"

# The value the server will see: the environment's, else the last in .env (as dotenvy reads it,
# quotes removed).
setting() {
  local name=$1
  if [ -n "${!name:-}" ]; then
    printf '%s' "${!name}"
  else
    sed -n "s/^$name=//p" .env | tail -n 1 | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'$/\1/"
  fi
}

# The database DATABASE_URL names, created on this machine's MariaDB when the URL points here.
database_url=$(setting DATABASE_URL)
database=${database_url#*://}
database=${database#*/}
database=${database%%\?*}
database_host=${database_url#*://}
database_host=${database_host#*@}
database_host=${database_host%%[/:?]*}
if [[ ! $database =~ ^[A-Za-z0-9_]+$ ]]; then
  echo "[run] DATABASE_URL in $PWD/.env names no database, or one this script cannot create: \"$database\"" >&2
  exit 2
fi
case "$database_host" in
  localhost | 127.0.0.1) mysql --protocol=socket -uispeaker -pispeaker -e "CREATE DATABASE IF NOT EXISTS \`$database\`" ;;
  *) log "DATABASE_URL points at $database_host: the database $database must exist there" ;;
esac

http_addr=$(setting HTTP_ADDR)
http_addr=${http_addr:-127.0.0.1:8080}
port=${http_addr##*:}
host=${http_addr%:*}
host=${host#[}
host=${host%]}
# A server on every interface is reached on the loopback one.
case "$host" in 0.0.0.0 | :: | "") host=127.0.0.1 ;; esac
url_host=$host
[[ $host == *:* ]] && url_host="[$host]"

# Before building, migrating or seeding: a taken port would only fail at the very end.
if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
  echo "[run] port $port (HTTP_ADDR=$http_addr) is already in use: stop what is listening there," >&2
  echo "[run] or choose another port with HTTP_ADDR in $PWD/.env, e.g. HTTP_ADDR=127.0.0.1:8081" >&2
  exit 2
fi

cargo build --release --locked --bin ispeaker-api --bin ispeaker-replay
release="${CARGO_TARGET_DIR:-target}/release"

"$release/ispeaker-api" &
server=$!
# Background commands of a script ignore Ctrl-C, so the script passes both signals on.
forward() { kill -s "$1" "$server" 2>/dev/null || true; }
trap 'forward INT' INT
trap 'forward TERM' TERM

base="http://$url_host:$port"
until curl -sf "$base/api/v1/health" >/dev/null 2>&1; do
  if ! kill -0 "$server" 2>/dev/null; then
    status=0
    wait "$server" || status=$?
    log "the server stopped before it answered (exit $status)"
    exit "$status"
  fi
  sleep 0.2
done

admin_email=$(setting BOOTSTRAP_ADMIN_EMAIL)
seed=$(setting SEED_DEMO_DATA)
cat <<BANNER

------------------------------------------------------------------------------------------
 iSpeaker Live API is up
   API        $base/api/v1   (health: $base/api/v1/health)
   Docs       $base/api/v1/docs   (spec: $base/api/v1/openapi.json)
BANNER
if [ -n "$admin_email" ]; then
  echo "   Admin      $admin_email, password: BOOTSTRAP_ADMIN_PASSWORD in .env (set when the first admin was created)"
fi
if [[ $seed == 1 || ${seed,,} == true ]]; then
  echo "   Demo users student@ispeaker.local (student) and speaker@ispeaker.local (speaker), password Demo#Pass2026"
fi
cat <<BANNER
   Settings   $PWD/.env
   Operators  ./target/release/ispeaker-replay --help   (reads the same .env)
   Stop       Ctrl-C
------------------------------------------------------------------------------------------

BANNER

# A trapped signal ends a wait early; wait again until the server has exited, and exit as it did.
while :; do
  status=0
  wait "$server" || status=$?
  kill -0 "$server" 2>/dev/null || break
done
exit "$status"
