#!/usr/bin/env bash
# HTTP load with wrk: 64 connections posting single transfers to a running paycore server.
# Usage: PAYCORE_KEY=<admin key> bench/http.sh [URL] [SECONDS] [RATE]
#   starts nothing itself: run `paycore serve` first (release build).
# Opens and funds ACCOUNTS accounts (default 1000) through the API, then runs wrk.
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
: "${PAYCORE_KEY:?set PAYCORE_KEY to an admin key}"
export ACCOUNTS=${ACCOUNTS:-1000}
export RUN=${RUN:-$(date +%s)}
here=$(cd "$(dirname "$0")" && pwd)

echo "opening and funding $ACCOUNTS accounts B0..B$((ACCOUNTS - 1))"
for ((i = 0; i < ACCOUNTS; i++)); do
  curl -sf -o /dev/null -X POST "$URL/v1/accounts" -H "Authorization: Bearer $PAYCORE_KEY" \
    -d "{\"account_no\":\"B$i\",\"type\":\"customer\",\"currency\":\"CNY\"}"
done
python3 -c "import json,os; n=int(os.environ['ACCOUNTS']); r=os.environ['RUN']; print(json.dumps({'transfers':[{'id':f'fund-{r}-{i}','debit_account':'SETTLEMENT-CNY','credit_account':f'B{i}','amount':1<<40,'currency':'CNY','kind':'deposit'} for i in range(n)]}))" |
  curl -sf -o /dev/null -X POST "$URL/v1/transfers/batch" -H "Authorization: Bearer $PAYCORE_KEY" --data-binary @-

echo "max rate, 64 connections:"
wrk -t2 -c64 -d"${SECONDS_PER_RUN}s" --latency -s "$here/transfers.lua" "$URL"
