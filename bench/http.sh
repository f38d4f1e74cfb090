#!/usr/bin/env bash
# HTTP load on a running paycore server, every figure from the same server in one run:
#   1. GET /healthz (the ceiling of the HTTP stack on this machine, no auth, no work);
#   2. GET /v1/accounts/B0 (authenticated read);
#   3. POST /v1/transfers, single transfers, as fast as 64 and then 256 connections go (wrk);
#   4. POST /v1/transfers at a fixed RATE per second (default 10000), latency percentiles
#      (`paycore bench http --phases rate`: wrk cannot hold a rate).
# Usage: PAYCORE_KEY=<admin key> bench/http.sh [URL] [SECONDS]
#   starts nothing itself: run `paycore serve` first (release build). Step 4 runs the binary at
#   $PAYCORE (default target/release/paycore) and is skipped, saying so, if it is not built.
# Opens and funds ACCOUNTS accounts (default 1000) B0.. through the API first.
# Needs wrk, curl and python3 on PATH (Debian: apt-get install wrk curl python3); it installs
# nothing and says which is missing.
set -euo pipefail
missing=()
for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "bench/http.sh needs ${missing[*]} on PATH (Debian: apt-get install ${missing[*]}); it installs nothing itself" >&2
  exit 2
fi
URL=${1:-http://127.0.0.1:8080}
SECONDS_PER_RUN=${2:-10}
RATE=${RATE:-10000}
: "${PAYCORE_KEY:?set PAYCORE_KEY to an admin key}"
export ACCOUNTS=${ACCOUNTS:-1000}
export RUN=${RUN:-$(date +%s)}
here=$(cd "$(dirname "$0")" && pwd)
PAYCORE=${PAYCORE:-$here/../target/release/paycore}

echo "opening and funding $ACCOUNTS accounts B0..B$((ACCOUNTS - 1))"
for ((i = 0; i < ACCOUNTS; i++)); do
  # An account left by an earlier run answers 409; that is fine.
  curl -s -o /dev/null -X POST "$URL/v1/accounts" -H "Authorization: Bearer $PAYCORE_KEY" \
    -d "{\"account_no\":\"B$i\",\"type\":\"customer\",\"currency\":\"CNY\"}"
done
python3 -c "import json,os; n=int(os.environ['ACCOUNTS']); r=os.environ['RUN']; print(json.dumps({'transfers':[{'id':f'fund-{r}-{i}','debit_account':'SETTLEMENT-CNY','credit_account':f'B{i}','amount':1<<40,'currency':'CNY','kind':'deposit'} for i in range(n)]}))" |
  curl -sf -o /dev/null -X POST "$URL/v1/transfers/batch" -H "Authorization: Bearer $PAYCORE_KEY" --data-binary @-

run() {
  echo
  echo "== $1"
  shift
  wrk -t2 -d"${SECONDS_PER_RUN}s" --latency "$@" | grep -E 'Requests/sec|Latency|^ +(50|99)%|Non-2xx|Socket errors|unexpected'
}
run "GET /healthz, 64 connections" -c64 "$URL/healthz"
run "GET /v1/accounts/B0, 64 connections" -c64 -H "Authorization: Bearer $PAYCORE_KEY" "$URL/v1/accounts/B0"
run "POST /v1/transfers, 64 connections" -c64 -s "$here/transfers.lua" "$URL"
run "POST /v1/transfers, 256 connections" -c256 -s "$here/transfers.lua" "$URL"

echo
echo "== POST /v1/transfers at $RATE/s, 64 connections"
if [ -x "$PAYCORE" ]; then
  "$PAYCORE" bench http --server "$URL" --key "$PAYCORE_KEY" --phases rate --rate "$RATE" \
    --seconds "$SECONDS_PER_RUN" --accounts "$ACCOUNTS" --connections 64
else
  echo "skipped: $PAYCORE is not built (cargo build --release -p paycore)"
fi
