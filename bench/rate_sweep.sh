#!/usr/bin/env bash
# Achieved vs. target rate in the open model, over a sweep of rates.
#
# Starts nginx as a sessions endpoint pinned to core 0 (bench/lib/nginx.sh)
# and runs `mcload run --rate R` pinned to core 1 for each rate, then prints one line per rate: requests
# scheduled, dropped, the rate achieved (requests started and not dropped /
# planned seconds), its error against the target, the fewest and most
# requests started in a full second of the series, and latency (from the
# intended start) beside service time.
#
#   bench/rate_sweep.sh                      # default sweep, 5 s per rate
#   RATES="1000 50000" DURATION=10s bench/rate_sweep.sh
#
# Installs nginx-light from Debian's packages if missing. Everything it
# starts, it stops.
set -euo pipefail
cd "$(dirname "$0")/.."

RATES=${RATES:-"1000 10000 20000 40000 60000 80000 100000 110000 120000 140000"}
DURATION=${DURATION:-5s}
PORT=${PORT:-18089}
SERVER_CORE=${SERVER_CORE:-0}
CLIENT_CORE=${CLIENT_CORE:-1}

# shellcheck source=lib/nginx.sh
source bench/lib/nginx.sh
cargo build --release --quiet
BIN=target/release/mcload
OUT=$WORK

printf '%9s %10s %9s %10s %8s %9s %9s %9s %9s %9s\n' \
  target scheduled dropped achieved error "min 1s" "max 1s" "p50 ms" "p99 ms" "svc p99"
for rate in $RATES; do
  # Bounded: the plan's own length plus the drain (timeout 5 s) and slack.
  timeout 60 taskset -c "$CLIENT_CORE" "$BIN" run scenarios/constant-rate.toml \
    --target "http://127.0.0.1:$PORT" --rate "$rate" --duration "$DURATION" \
    --warmup 1s --threads 1 --connections 64 --max-in-flight 10000 \
    --quiet --json "$OUT/$rate.json" || true
  python3 - "$OUT/$rate.json" "$rate" <<'PY'
import json, sys
report, target = json.load(open(sys.argv[1])), float(sys.argv[2])
scheduled, dropped = report["requests"]["scheduled"], report["dropped"]
achieved = (scheduled - dropped) / report["model"]["duration_s"]
# Requests started in each full second of the measured part (the first and
# the last are partial).
seconds = [i["started"] for i in report["intervals"][1:-1]] or [0]
print(f'{target:9.0f} {scheduled:10d} {dropped:9d} {achieved:10.0f} '
      f'{(achieved - target) / target * 100:+7.2f}% {min(seconds):9d} {max(seconds):9d} '
      f'{report["latency_ms"]["p50"]:9.3f} {report["latency_ms"]["p99"]:9.3f} '
      f'{report["service_time_ms"]["p99"]:9.3f}')
PY
done
