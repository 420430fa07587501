#!/usr/bin/env bash
# Soak: mcload at a moderate open-model rate against `mcload serve`, one
# phase per fault mode (a fresh server and a fresh run each), checking after
# every phase that
#   - the report's accounting identity holds (scheduled = every status +
#     every error class + dropped, and completed = the answers);
#   - mcload's counts equal the server's `GET /stats`, class by class: what
#     the server received is what mcload sent and did not lose before the
#     server (scheduled - dropped - errors.connect, - errors.local and
#     errors.tls where the report has them); its 201/400/500/other answers
#     are mcload's statuses; a reset it sent is mcload's errors.io, a
#     garbage answer mcload's errors.protocol (no phase should see a
#     timeout, which would be an answer the server gave and mcload did not
#     wait for);
#   - mcload's resident memory stayed flat: VmRSS sampled every second; the
#     largest sample after the first 5 s may exceed the one at 5 s by at
#     most RSS_SLACK_MIB. The last phase runs half the soak in one run, so
#     this holds over minutes.
# It prints a table and exits 1 when a check fails (2 on bad settings).
#
#   bench/soak.sh                      # 6 minutes, 500 requests/s
#   SOAK_SECONDS=60 bench/soak.sh      # a short one
#   RATE=2000 PHASES="reset garbage" SOAK_SECONDS=30 bench/soak.sh
#
# The server runs on core SERVER_CORE and mcload on CLIENT_CORE (taskset,
# when there are two cores or more). MCLOAD names the binary (default: a
# release build, built here). Stops what it starts; each run is bounded by
# `timeout`.
set -euo pipefail
cd "$(dirname "$0")/.."

SOAK_SECONDS=${SOAK_SECONDS:-360}
RATE=${RATE:-500}
PHASES=${PHASES:-"latency stall reset garbage trickle close errors mixed"}
SERVER_CORE=${SERVER_CORE:-0}
CLIENT_CORE=${CLIENT_CORE:-1}
RSS_SLACK_MIB=${RSS_SLACK_MIB:-2}
MCLOAD=${MCLOAD:-}

die() {
  echo "${0##*/}: $*" >&2
  exit 2
}
[[ $SOAK_SECONDS =~ ^[1-9][0-9]*$ ]] || die "SOAK_SECONDS must be a whole number of seconds, not '$SOAK_SECONDS'"
[[ $RATE =~ ^[1-9][0-9]*$ ]] || die "RATE must be a whole number of requests per second, not '$RATE'"

# The server's flags for each phase.
faults_of() {
  case $1 in
    latency) echo "--latency lognormal:5ms,0.5" ;;
    stall) echo "--stall 1s/5s --latency uniform:0ms..2ms" ;;
    reset) echo "--reset-share 0.05" ;;
    garbage) echo "--garbage-share 0.05" ;;
    trickle) echo "--trickle-share 0.05" ;;
    close) echo "--close" ;;
    errors) echo "--error-rate 0.05" ;;
    mixed) echo "--latency uniform:0ms..10ms --stall 500ms/7s --reset-share 0.02 --garbage-share 0.02 --trickle-share 0.02 --error-rate 0.02" ;;
    *) die "unknown phase '$1' (phases: latency stall reset garbage trickle close errors mixed)" ;;
  esac
}
read -r -a phases <<<"$PHASES"
[ ${#phases[@]} -gt 0 ] || die "PHASES is empty"
for phase in "${phases[@]}"; do faults_of "$phase" >/dev/null; done
# The last phase (all faults at once by default) runs half the soak in one
# run, so memory is watched over minutes, not only over one short phase;
# the others share the first half.
last_index=$((${#phases[@]} - 1))
if [ "$last_index" -eq 0 ]; then
  last_seconds=$SOAK_SECONDS
  phase_seconds=$SOAK_SECONDS
else
  last_seconds=$((SOAK_SECONDS / 2))
  phase_seconds=$(((SOAK_SECONDS - last_seconds) / last_index))
fi
[ "$phase_seconds" -ge 5 ] || die "SOAK_SECONDS=$SOAK_SECONDS leaves under 5 s for each of ${#phases[@]} phases"

server_pin=()
client_pin=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  [[ $SERVER_CORE =~ ^[0-9]+$ && $SERVER_CORE -lt $(nproc) ]] || die "SERVER_CORE must be a core below $(nproc)"
  [[ $CLIENT_CORE =~ ^[0-9]+$ && $CLIENT_CORE -lt $(nproc) ]] || die "CLIENT_CORE must be a core below $(nproc)"
  server_pin=(taskset -c "$SERVER_CORE")
  client_pin=(taskset -c "$CLIENT_CORE")
fi

if [ -z "$MCLOAD" ]; then
  cargo build --release --quiet
  MCLOAD=target/release/mcload
fi
[ -x "$MCLOAD" ] || die "MCLOAD=$MCLOAD is not an executable"

WORK=$(mktemp -d)
server_pid=
sampler_pid=
cleanup() {
  [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Starts `mcload serve` with the phase's faults on an ephemeral port; sets
# server_pid and url.
start_server() {
  local flags
  read -r -a flags <<<"$(faults_of "$1")"
  : >"$WORK/serve.out"
  "${server_pin[@]}" "$MCLOAD" serve --listen 127.0.0.1:0 --threads 1 "${flags[@]}" \
    >"$WORK/serve.out" 2>"$WORK/serve.err" &
  server_pid=$!
  url=
  for _ in $(seq 100); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$WORK/serve.out" | head -1 || true)
    [ -n "$url" ] && return
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "${0##*/}: mcload serve did not start: $(cat "$WORK/serve.err")" >&2
  exit 1
}

# Writes VmRSS (KiB) of PID every second to FILE until the process ends.
sample_rss() {
  local pid=$1 file=$2
  while [ -r "/proc/$pid/status" ]; do
    awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" >>"$file" 2>/dev/null || true
    sleep 1
  done
}

printf '%s\n' "soak: ${#phases[@]} phases (${phase_seconds}s each, the last ${last_seconds}s) at ${RATE}/s (open model), mcload $("$MCLOAD" --version | awk '{print $2}')${server_pin:+, server on core $SERVER_CORE, mcload on core $CLIENT_CORE}"
printf '%-8s %9s %9s %9s %8s %8s %8s %8s %10s  %-8s %-8s %-17s %s\n' \
  phase scheduled "srv recv" 201 "io/rst" "pr/garb" 500 timeout "faults" identity counts "RSS MiB f/max/l" result
failed=0
for index in "${!phases[@]}"; do
  phase=${phases[$index]}
  seconds=$phase_seconds
  [ "$index" -eq "$last_index" ] && seconds=$last_seconds
  start_server "$phase"
  : >"$WORK/rss"
  json="$WORK/$phase.json"
  set +e
  "${client_pin[@]}" timeout $((seconds + 120)) "$MCLOAD" run scenarios/smoke.toml \
    --target "$url" --rate "$RATE" --duration "${seconds}s" --threads 1 \
    --threshold "unexpected <= 100%" --quiet --json "$json" 2>"$WORK/run.err" &
  run_pid=$!
  # The sampler follows mcload itself, not timeout or taskset.
  for _ in $(seq 50); do
    mcload_pid=$(pgrep -P "$run_pid" -x mcload || true)
    [ -n "$mcload_pid" ] && break
    if [ "$(cat "/proc/$run_pid/comm" 2>/dev/null)" = mcload ]; then
      mcload_pid=$run_pid
      break
    fi
    sleep 0.02
  done
  sampler_pid=
  if [ -n "$mcload_pid" ]; then
    sample_rss "$mcload_pid" "$WORK/rss" &
    sampler_pid=$!
  fi
  wait "$run_pid"
  code=$?
  set -e
  [ -n "$sampler_pid" ] && wait "$sampler_pid" 2>/dev/null || true
  sampler_pid=
  curl -sf "$url/stats" >"$WORK/stats.json" || echo '{}' >"$WORK/stats.json"
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
  if ! python3 - "$phase" "$code" "$json" "$WORK/stats.json" "$WORK/rss" "$RSS_SLACK_MIB" "$WORK/run.err" <<'EOF'; then
import json, sys

phase, code, report_path, stats_path, rss_path, slack, err_path = sys.argv[1:]
problems = []
try:
    report = json.load(open(report_path))
except Exception as e:
    report = None
    problems.append(f"no report ({e}); mcload said: {open(err_path).read().strip()[-300:]}")
stats = json.load(open(stats_path))
if not stats:
    problems.append("the server did not answer /stats")
if code != "0":
    problems.append(f"mcload exited {code}: {open(err_path).read().strip()[-300:]}")

rss = [int(x) / 1024 for x in open(rss_path).read().split()]
if len(rss) >= 7:
    settled = rss[5:]
    grew = max(settled) - settled[0]
    if grew > float(slack):
        problems.append(f"RSS grew {grew:.1f} MiB after the first 5 s (allowed {slack})")
elif len(rss) < 2:
    problems.append("too few RSS samples")
rss_text = f"{rss[0]:.1f}/{max(rss):.1f}/{rss[-1]:.1f}" if rss else "-"

row = dict(scheduled="-", recv="-", s201="-", io="-", proto="-", s500="-", timeout="-", faults="-")
identity = counts = "-"
if report and stats:
    status, errors = report["status"], report["errors"]
    other = sum(status["other"].values()) if isinstance(status["other"], dict) else status["other"]
    answered = status["201"] + status["400"] + status["500"] + other
    scheduled = report["requests"]["scheduled"]
    dropped = report.get("dropped", 0)
    error_sum = sum(v for v in errors.values() if isinstance(v, int))
    cancelled = report.get("cancelled", 0) or 0
    identity_ok = (scheduled == answered + error_sum + dropped + cancelled
                   and report["requests"]["completed"] == answered)
    identity = "holds" if identity_ok else "BROKEN"
    if not identity_ok:
        problems.append(f"identity: scheduled {scheduled} != {answered} answered + {error_sum} errors + {dropped} dropped + {cancelled} cancelled")
    faults = stats["faults"]
    never_reached = errors.get("connect", 0) + errors.get("local", 0) + errors.get("tls", 0)
    pairs = [
        ("received", stats["requests"], scheduled - dropped - never_reached),
        ("201", stats["201"], status["201"]),
        ("400", stats["400"], status["400"]),
        ("500", stats["500"], status["500"]),
        ("other", stats["other"], other),
        ("reset = errors.io", faults.get("reset", 0), errors.get("io", 0)),
        ("garbage = errors.protocol", faults.get("garbage", 0), errors.get("protocol", 0)),
        ("timeouts", 0, errors.get("timeout", 0)),
    ]
    differ = [f"{name}: server {a}, mcload {b}" for name, a, b in pairs if a != b]
    counts = "equal" if not differ else "DIFFER"
    problems += differ
    held = {k: v for k, v in faults.items() if k in ("stalled", "trickled", "closed") and v}
    row = dict(scheduled=scheduled, recv=stats["requests"], s201=status["201"],
               io=f'{errors.get("io", 0)}/{faults.get("reset", 0)}',
               proto=f'{errors.get("protocol", 0)}/{faults.get("garbage", 0)}',
               s500=status["500"], timeout=errors.get("timeout", 0),
               faults=",".join(f"{k[:5]}:{v}" for k, v in held.items()) or "-")
print(f'{phase:<8} {row["scheduled"]:>9} {row["recv"]:>9} {row["s201"]:>9} {row["io"]:>8} '
      f'{row["proto"]:>8} {row["s500"]:>8} {row["timeout"]:>8} {row["faults"]:>10}  '
      f'{identity:<8} {counts:<8} {rss_text:<17} {"pass" if not problems else "FAIL"}')
for p in problems:
    print(f"         {phase}: {p}")
sys.exit(1 if problems else 0)
EOF
    failed=1
  fi
done
if [ "$failed" -ne 0 ]; then
  echo "soak: FAILED" >&2
  exit 1
fi
echo "soak: every phase passed"
