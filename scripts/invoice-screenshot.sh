#!/usr/bin/env bash
# Looks at an invoice as a person does: saves the printable document of the demo buyer Fatima's
# newest invoice (or of INVOICE_ID) to a file and takes a screenshot of it in headless Chromium,
# with the network off — the page must render from itself alone. Installs Chromium and an
# Arabic font (Noto) from Debian's packages when missing.
#
# Usage: scripts/invoice-screenshot.sh [out.png]   (a server from scripts/run.sh must be running)
# Settings: API_URL (default http://127.0.0.1:8080/api/v1), LOGIN and PASSWORD (default the demo
# buyer fatima_z), INVOICE_ID (default the newest invoice of that login).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/invoice.png}"
api="${API_URL:-http://127.0.0.1:8080/api/v1}"
login="${LOGIN:-fatima_z}"
password="${PASSWORD:-Demo#Pass2026}"

if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "Noto Naskh Arabic"; then
  echo "[screenshot] installing chromium and fonts-noto-core"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium fonts-noto-core >/dev/null
fi

token=$(curl -sf "$api/auth/login" -H 'content-type: application/json' \
  -d "{\"login\": \"$login\", \"password\": \"$password\"}" | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["token"])')
invoice_id="${INVOICE_ID:-$(curl -sf "$api/invoices?per_page=1" -H "authorization: Bearer $token" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["data"][0]["id"])')}"
page="$(dirname "$out")/invoice-$invoice_id.html"
mkdir -p "$(dirname "$out")"
curl -sf "$api/invoices/$invoice_id/document" -H "authorization: Bearer $token" -o "$page"

# A proxy to nowhere: any fetch the page tried would fail.
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --proxy-server=127.0.0.1:9 \
  --window-size=1000,1300 --screenshot="$out" "file://$(realpath "$page")" 2>/dev/null
echo "[screenshot] invoice $invoice_id: $page -> $out"
