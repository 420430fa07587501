#!/usr/bin/env bash
# Peak RSS of mcload against the number of requests: 10^5, 10^6 and 10^7
# requests in the closed model, 64 connections on one generator thread
# pinned to core 1, against nginx pinned to core 0. Memory must not grow
# with the run: histograms are per thread and the session-id check holds a
# fixed 4 MiB.
#
#   bench/rss.sh
#   COUNTS="100000 1000000" bench/rss.sh
#
# Installs nginx-light and GNU time from Debian's packages if missing; stops
# what it starts; each run is bounded by `timeout`.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNTS=${COUNTS:-"100000 1000000 10000000"}
PORT=${PORT:-18091}
SERVER_CORE=${SERVER_CORE:-0}
CLIENT_CORE=${CLIENT_CORE:-1}

# shellcheck source=lib/nginx.sh
source bench/lib/nginx.sh
cargo build --release --quiet

printf '%12s %10s %8s %12s %12s\n' requests "peak MiB" "CPU s" "req/CPU-s" "nginx reqs"
for n in $COUNTS; do
  before=$(nginx_requests)
  timeout 600 /usr/bin/time -f "%M %U %S" -o "$WORK/time" taskset -c "$CLIENT_CORE" \
    target/release/mcload run scenarios/smoke.toml --target "http://127.0.0.1:$PORT" \
    --concurrency 64 --threads 1 --requests "$n" --quiet --json "$WORK/report.json"
  after=$(nginx_requests)
  read -r rss user sys <"$WORK/time"
  scheduled=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["requests"]["scheduled"])' "$WORK/report.json")
  awk -v n="$n" -v s="$scheduled" -v rss="$rss" -v cpu="$(echo "$user $sys" | awk '{print $1 + $2}')" \
    -v served="$((after - before - 1))" 'BEGIN {
      if (s != n) { print "scheduled " s " of " n > "/dev/stderr"; exit 1 }
      printf "%12d %10.1f %8.2f %12.0f %12d\n", n, rss / 1024, cpu, n / cpu, served
    }'
done
