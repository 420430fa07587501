#!/usr/bin/env bash
# A regression gate for CI, run as is from the repository root:
#
#   examples/ci/gate.sh                   # build, serve, run N times, compare
#   examples/ci/gate.sh --update-baseline # record a new baseline instead
#
# It builds mcload, starts `mcload serve` as the endpoint (point TARGET at
# your own deployment instead), runs examples/ci/scenario.toml RUNS times
# (each judged by its thresholds, with a JUnit report), then compares the
# runs with the baseline set committed in examples/ci/baseline/ and writes
# the comparison as text, Markdown and JUnit. It exits non-zero when a run
# fails its thresholds or the comparison finds a regression.
#
# A baseline belongs to the machine and build it was recorded with: record
# it where the gate runs (`--update-baseline`) and commit it. The committed
# one is from mcload's own CI machine (2 cores), with a release build.
#
# Environment:
#   MCLOAD     an mcload binary to use (default: build target/release/mcload)
#   TARGET     the endpoint's base URL (default: a local `mcload serve`)
#   PORT       port of the local `mcload serve` (default 18790)
#   LATENCY    latency the local server adds to each answer (default 5ms)
#   RUNS       runs per gate (default 5; compare needs 3 for statistics)
#   REQUESTS   requests per run (default: the scenario's)
#   TOLERANCE  change below which nothing regresses (default 20%)
#   OUT        where the reports go (default examples/ci/out)
set -euo pipefail
cd "$(dirname "$0")/../.."

here=examples/ci
RUNS=${RUNS:-5}
PORT=${PORT:-18790}
LATENCY=${LATENCY:-5ms}
TOLERANCE=${TOLERANCE:-20%}
OUT=${OUT:-$here/out}
update=false
case "${1:-}" in
  --update-baseline) update=true ;;
  "") ;;
  *) echo "gate.sh: unknown argument $1 (only --update-baseline)" >&2; exit 2 ;;
esac
case "$RUNS" in
  '' | *[!0-9]* | 0) echo "gate.sh: RUNS must be a whole number above 0, not '$RUNS'" >&2; exit 2 ;;
esac

if [ -z "${MCLOAD:-}" ]; then
  cargo build --release --locked --quiet
  MCLOAD=target/release/mcload
fi

server_pid=
stop_server() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; true; }
trap stop_server EXIT
if [ -z "${TARGET:-}" ]; then
  log=$(mktemp)
  "$MCLOAD" serve --listen "127.0.0.1:$PORT" --latency "$LATENCY" >"$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 50); do
    grep -q "listening on" "$log" && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; echo "gate.sh: mcload serve did not start" >&2; exit 1; }
    sleep 0.1
  done
  TARGET="http://127.0.0.1:$PORT"
fi

dest=$OUT
$update && dest=$here/baseline
rm -rf "$dest" && mkdir -p "$dest"
extra=()
[ -n "${REQUESTS:-}" ] && extra+=(--requests "$REQUESTS")

failed=0
for i in $(seq "$RUNS"); do
  echo "gate.sh: run $i of $RUNS against $TARGET"
  if ! "$MCLOAD" run "$here/scenario.toml" --target "$TARGET" --quiet "${extra[@]}" \
      --json "$dest/run-$i.json" --junit "$dest/run-$i.junit.xml"; then
    echo "gate.sh: run $i failed its verdict (see $dest/run-$i.junit.xml)" >&2
    failed=1
  fi
done
if $update; then
  rm -f "$dest"/*.junit.xml
  echo "gate.sh: baseline of $RUNS runs written to $dest"
  exit "$failed"
fi

status=0
"$MCLOAD" compare --base "$here"/baseline/run-*.json --cand "$OUT"/run-*.json \
  --tolerance "$TOLERANCE" \
  --metric latency.p50 --metric latency.p90 --metric service_time.p50 \
  --metric rate --metric unexpected \
  --markdown "$OUT/compare.md" --junit "$OUT/compare.junit.xml" --json "$OUT/compare.json" ||
  status=$?
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then
  echo "gate.sh: FAILED (runs: $failed, compare exit $status)" >&2
  exit 1
fi
echo "gate.sh: passed: $RUNS runs held their thresholds and nothing regressed against the baseline"
