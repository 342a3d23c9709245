#!/usr/bin/env bash
# Makes sure MariaDB and NATS (with JetStream) are installed and running on this machine, and that
# the application account exists. Safe to run again: it only does what is missing.
set -euo pipefail

DB_USER="${ISPEAKER_DB_USER:-ispeaker}"
DB_PASSWORD="${ISPEAKER_DB_PASSWORD:-ispeaker}"
NATS_DIR="${ISPEAKER_NATS_DIR:-/var/lib/nats-server}"

log() { printf '[services] %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=""
install_packages() {
  if [ -z "$apt_updated" ]; then
    as_root apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
  log "installing MariaDB"
  install_packages mariadb-server mariadb-client
fi
if [ ! -x /usr/sbin/nats-server ] && ! command -v nats-server >/dev/null 2>&1; then
  log "installing NATS"
  install_packages nats-server
fi

mysql_ping() { mysqladmin --protocol=socket -uroot ping >/dev/null 2>&1; }
if ! mysql_ping; then
  log "starting MariaDB"
  as_root mkdir -p /run/mysqld
  as_root chown mysql:mysql /run/mysqld
  if [ ! -d /var/lib/mysql/mysql ]; then
    as_root mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
  fi
  as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
  for _ in $(seq 1 60); do mysql_ping && break; sleep 0.5; done
  mysql_ping || { log "MariaDB did not start"; exit 1; }
fi

as_root mysql --protocol=socket -uroot <<SQL
CREATE USER IF NOT EXISTS '${DB_USER}'@'localhost' IDENTIFIED BY '${DB_PASSWORD}';
CREATE USER IF NOT EXISTS '${DB_USER}'@'127.0.0.1' IDENTIFIED BY '${DB_PASSWORD}';
GRANT ALL PRIVILEGES ON *.* TO '${DB_USER}'@'localhost';
GRANT ALL PRIVILEGES ON *.* TO '${DB_USER}'@'127.0.0.1';
SQL

nats_up() { (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; }
if ! nats_up; then
  log "starting NATS with JetStream"
  as_root mkdir -p "$NATS_DIR"
  nats_bin=$(command -v nats-server || echo /usr/sbin/nats-server)
  as_root start-stop-daemon --start --oknodo --background --exec "$nats_bin" -- \
    -a 127.0.0.1 -p 4222 -js -sd "$NATS_DIR" -l /var/log/nats-server.log
  for _ in $(seq 1 40); do nats_up && break; sleep 0.25; done
  nats_up || { log "NATS did not start"; exit 1; }
fi
log "MariaDB and NATS are up"
