#!/usr/bin/env bash
# Send lag and CPU per request for each pacing of the open model.
#
# Starts nginx as a sessions endpoint pinned to core 0 (bench/lib/nginx.sh)
# and runs `mcload run --rate R --pacing P` pinned to core 1, one generator
# thread, 64 connections, for each pacing and rate, ROUNDS times with the
# pacings interleaved. It prints one line per pacing and rate, medians over
# the rounds: the rate achieved, send lag p50/p99/p99.9 (µs: how late the
# generator itself sent each request; see the README), latency p50 (from
# the intended start) beside service time p50 (from the send) in ms, and
# the generator's user+sys CPU per request sent (µs), from GNU time. A run
# that exits non-zero (a threshold failed: requests dropped or errors) or
# sends nothing is left out of the medians, and the last column counts the
# runs kept.
#
# Beside them, for each rate, a "timer floor" row: how late this machine
# wakes a thread that asks to be woken once per start at that rate, measured
# by cyclictest (rt-tests) on the generator's core, as a real-time thread
# with no timer slack: the least lateness any sleeping generator can have
# here, in the lag columns, with the wake-ups achieved per second. A
# virtual machine's timer and vCPU scheduling set it; mcload's `exact`
# pacing cannot be steadier than it. FLOOR=0 leaves it out (FLOOR is 0 or
# 1).
#
#   bench/pacing.sh                                     # 3 rounds of 5 s
#   PACINGS="exact batched:200us" RATES=20000 ROUNDS=5 bench/pacing.sh
#
# Installs nginx-light, GNU time and rt-tests from Debian's packages if
# missing.
# Everything it starts, it stops; every run is bounded by `timeout`.
set -euo pipefail
cd "$(dirname "$0")/.."

PACINGS=${PACINGS:-"exact batched:100us batched:200us batched:500us"}
RATES=${RATES:-"5000 20000 50000"}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-64}
PORT=${PORT:-18091}
SERVER_CORE=${SERVER_CORE:-0}
CLIENT_CORE=${CLIENT_CORE:-1}
# shellcheck source=lib/settings.sh
source bench/lib/settings.sh
FLOOR=${FLOOR:-1}
need_whole ROUNDS DURATION CONNECTIONS RATES
need_switch FLOOR
[ "$FLOOR" = 0 ] || NEEDS="cyclictest:rt-tests"

# shellcheck source=lib/nginx.sh
source bench/lib/nginx.sh
cargo build --release --quiet
BIN=$PWD/target/release/mcload
for pacing in $PACINGS; do
  # Refused here, before any run, rather than once per run.
  "$BIN" run scenarios/smoke.toml --pacing "$pacing" --rate 1 --requests 1 \
    --target "http://127.0.0.1:$PORT" --quiet >/dev/null
done

for round in $(seq "$ROUNDS"); do
  for rate in $RATES; do
    for pacing in $PACINGS; do
      out=$WORK/$rate.${pacing//[:]/_}.$round
      # Bounded: the plan's own length plus the drain and some slack.
      rc=0
      timeout $((DURATION + 30)) /usr/bin/time -f "%U %S" -o "$out.time" \
        taskset -c "$CLIENT_CORE" "$BIN" run scenarios/smoke.toml \
        --target "http://127.0.0.1:$PORT" --rate "$rate" --duration "${DURATION}s" \
        --pacing "$pacing" --threads 1 --connections "$CONNECTIONS" \
        --max-in-flight 10000 --quiet --json "$out.json" >/dev/null 2>"$out.err" || rc=$?
      echo "$rc" >"$out.rc"
    done
    if [ "$FLOOR" = 1 ]; then
      # One wake-up per start at this rate, as `exact` asks for; the
      # histogram is in µs, one line per µs up to 10 ms.
      timeout $((DURATION + 30)) cyclictest --quiet --mlockall --affinity="$CLIENT_CORE" \
        --threads=1 --priority=1 --interval=$((1000000 / rate > 0 ? 1000000 / rate : 1)) \
        --duration="$DURATION" --histogram=10000 >"$WORK/$rate.floor.$round" 2>&1 || {
        echo "pacing.sh: cyclictest failed at $rate/s; its row leaves this round out:" >&2
        grep -v '^[0-9]' "$WORK/$rate.floor.$round" | tail -5 >&2
        rm -f "$WORK/$rate.floor.$round"
      }
    fi
  done
  echo "round $round of $ROUNDS done" >&2
done

python3 - "$WORK" "$ROUNDS" "$RATES" "$PACINGS" "$FLOOR" "$DURATION" <<'PY'
import json, statistics, sys
work, rounds, rates, pacings = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split()
floor, duration = sys.argv[5] == "1", int(sys.argv[6])


def wake_ups(path):
    """cyclictest's histogram as (count of wake-ups, quantile function)."""
    counts, overflows, worst = {}, 0, 0
    for line in open(path):
        fields = line.split()
        if line.startswith("# Histogram Overflows:"):
            overflows = int(fields[-1])
        elif line.startswith("# Max Latencies:"):
            worst = int(fields[-1])
        elif len(fields) == 2 and fields[0].isdigit():
            counts[int(fields[0])] = int(fields[1])
    if overflows:
        counts[worst] = counts.get(worst, 0) + overflows
    total = sum(counts.values())

    def quantile(q):
        seen = 0
        for us in sorted(counts):
            seen += counts[us]
            if seen >= q * total:
                return us
        raise ValueError("no wake-ups")

    return total, quantile


# Each column's width and format; a column a row does not have stays blank.
COLUMNS = [(9, ",.0f"), (8, ".0f"), (8, ".0f"), (9, ".0f"), (8, ".3f"), (8, ".3f"), (8, ".2f")]


def print_row(rate, label, rows, missing):
    """One line of medians over the rounds kept, or why none was."""
    if not rows:
        print(f"{rate:>7} {label:>15}  {missing}")
        return
    cells = []
    for (width, spec), col in zip(COLUMNS, zip(*rows)):
        cell = "" if col[0] is None else format(statistics.median(col), spec)
        cells.append(f"{cell:>{width}}")
    print(f"{rate:>7} {label:>15} {' '.join(cells)} {len(rows):>3}/{rounds}")


print(f"{'rate/s':>7} {'pacing':>15} {'achieved':>9} {'lag p50':>8} {'lag p99':>8} "
      f"{'lag p999':>9} {'lat p50':>8} {'svc p50':>8} {'CPU/req':>8} {'runs':>5}")
print(f"{'':>7} {'':>15} {'req/s':>9} {'µs':>8} {'µs':>8} {'µs':>9} {'ms':>8} {'ms':>8} {'µs':>8} {'kept':>5}")
for rate in rates:
    for pacing in pacings:
        rows = []
        for r in range(1, rounds + 1):
            base = f"{work}/{rate}.{pacing.replace(':', '_')}.{r}"
            try:
                if open(base + ".rc").read().strip() != "0":
                    continue
                report = json.load(open(base + ".json"))
                user, sys_ = map(float, open(base + ".time").read().split()[-2:])
                lag = report["send_lag_ms"]
                # Sent: neither dropped nor timed out waiting for a connection.
                sent = (report["requests"]["scheduled"] - report["dropped"]
                        - report["timeouts_never_sent"])
                rows.append((
                    report["throughput_rps"], lag["p50"] * 1000, lag["p99"] * 1000,
                    lag["p999"] * 1000, report["latency_ms"]["p50"],
                    report["service_time_ms"]["p50"], (user + sys_) / sent * 1e6,
                ))
            except (OSError, ValueError, KeyError, TypeError, ZeroDivisionError):
                continue  # no report, or nothing sent: its figures are null
        print_row(rate, pacing, rows, "no run kept (see the .err files)")
    if not floor:
        continue
    rows = []
    for r in range(1, rounds + 1):
        try:
            total, quantile = wake_ups(f"{work}/{rate}.floor.{r}")
            rows.append((total / duration, quantile(0.5), quantile(0.99), quantile(0.999),
                         None, None, None))
        except (OSError, ValueError):
            continue
    print_row(rate, "timer floor", rows, "no cyclictest run kept")
PY
