#!/usr/bin/env bash
# The Kubernetes Job (deploy/kubernetes/) played on one machine: one
# `mcload serve` on 127.0.0.1, SHARDS `mcload run --shard K/N` processes that
# share one start instant, then `mcload merge` over their reports. Checks that
#   - every shard ran (exit 0 or 1; 3 would mean it missed the start);
#   - the shards together scheduled the single-machine plan: RATE x DURATION
#     requests, give or take 1, and the merged report says the same as the
#     shards added up;
#   - the server received what the merged report says was sent (scheduled -
#     dropped - errors.connect, errors.local and errors.tls, which never
#     reached it) and answered what it says (201, 400, 500, other);
#   - the merged bodies (valid, and invalid by mutation) are those of one
#     unsharded process with the same seed (run afterwards, against its
#     own reference server).
# It prints a table (one row per shard, the merged report, the server) and
# exits 1 when a check fails, 2 on bad settings or an mcload without
# sharded runs.
#
#   bench/shards.sh                            # 3 shards, 600/s for 4 s
#   SHARDS=4 RATE=2000 DURATION=10 bench/shards.sh
#
# Environment: SHARDS (3), RATE (requests/s, 600), DURATION (s, 4), SEED
# (42), INVALID_SHARE (0.05, so that 400s and mutations are counted too), LEAD (s from now to the shared start, 2), OUT (where the reports
# stay, target/shards), MCLOAD (default: build target/release/mcload).
# Stops what it starts, by PID; each process is bounded by `timeout`.
set -euo pipefail
cd "$(dirname "$0")/.."

SHARDS=${SHARDS:-3}
RATE=${RATE:-600}
DURATION=${DURATION:-4}
SEED=${SEED:-42}
INVALID_SHARE=${INVALID_SHARE:-0.05}
LEAD=${LEAD:-2}
OUT=${OUT:-target/shards}
MCLOAD=${MCLOAD:-}

die() {
  echo "${0##*/}: $*" >&2
  exit 2
}
# shellcheck source=lib/settings.sh
source bench/lib/settings.sh
need_whole SHARDS RATE DURATION LEAD
[[ $SEED =~ ^[0-9]+$ ]] || die "SEED must be a whole number, not '$SEED'"
command -v curl >/dev/null || die "needs curl (for the server's /stats)"

if [ -z "$MCLOAD" ]; then
  cargo build --release --locked --quiet
  MCLOAD=target/release/mcload
fi
[ -x "$MCLOAD" ] || die "MCLOAD=$MCLOAD is not an executable"
# Written against the sharding interface; an mcload from before it says so
# here rather than failing half-way.
# (The help is read whole first: `grep -q` in a pipe may stop reading early,
# and pipefail would take the writer's broken pipe for a failure.)
run_help=$("$MCLOAD" run --help)
grep -q -- '--shard' <<<"$run_help" ||
  die "$MCLOAD run has no --shard: this mcload predates sharded runs (run --shard, --start-at, merge)"
grep -q -- '--start-at' <<<"$run_help" ||
  die "$MCLOAD run has no --start-at: this mcload predates shared starts"
"$MCLOAD" merge --help >/dev/null 2>&1 ||
  die "$MCLOAD has no merge command: this mcload predates merging shard reports"

rm -rf "$OUT"
mkdir -p "$OUT"
server_pid=
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
}
trap cleanup EXIT

# The plan: an open model with no warm-up, so every scheduled request is in
# the report's counts, and the default verdict (unexpected <= 1%) only.
cat >"$OUT/scenario.toml" <<TOML
name = "shards"
[load]
rate = $RATE
duration = "${DURATION}s"
[body]
seed = $SEED
invalid_share = $INVALID_SHARE
TOML

"$MCLOAD" serve --listen 127.0.0.1:0 >"$OUT/serve.out" 2>"$OUT/serve.err" &
server_pid=$!
url=
for _ in $(seq 100); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$OUT/serve.out" | head -1 || true)
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.05
done
[ -n "$url" ] || {
  echo "${0##*/}: mcload serve did not start: $(cat "$OUT/serve.err")" >&2
  exit 1
}

# One absolute instant for all: `+2s` given to each process would be counted
# from each one's own start, a few milliseconds apart.
start_at=$(date -u -d "+$LEAD seconds" +%Y-%m-%dT%H:%M:%S.%3NZ)
for k in $(seq 0 $((SHARDS - 1))); do
  timeout $((LEAD + DURATION + 60)) "$MCLOAD" run "$OUT/scenario.toml" --target "$url" \
    --shard "$k/$SHARDS" --start-at "$start_at" --quiet --json "$OUT/shard-$k.json" \
    2>"$OUT/shard-$k.err" &
  pids+=($!)
done
codes=()
for pid in "${pids[@]}"; do
  code=0
  wait "$pid" || code=$?
  codes+=("$code")
done
pids=()

merge_code=0
shard_files=()
for k in $(seq 0 $((SHARDS - 1))); do
  [ -s "$OUT/shard-$k.json" ] && shard_files+=("$OUT/shard-$k.json")
done
if [ ${#shard_files[@]} -gt 0 ]; then
  timeout 60 "$MCLOAD" merge "${shard_files[@]}" --json "$OUT/merged.json" \
    >"$OUT/merge.out" 2>"$OUT/merge.err" || merge_code=$?
fi
curl -sf "$url/stats" >"$OUT/stats.json" || echo '{}' >"$OUT/stats.json"
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=
single_code=0
timeout $((DURATION + 60)) "$MCLOAD" run "$OUT/scenario.toml" --quiet --json "$OUT/single.json" \
  2>"$OUT/single.err" || single_code=$?

echo "shards: $SHARDS shards of ${RATE}/s for ${DURATION}s (seed $SEED) against $url, start $start_at, mcload $("$MCLOAD" --version | awk '{print $2}')"
python3 - "$OUT" "$SHARDS" "$RATE" "$DURATION" "$merge_code" "$single_code" "${codes[@]}" <<'PY'
import json, sys

out, shards, rate, duration = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
merge_code, single_code = sys.argv[5], sys.argv[6]
codes = sys.argv[7:]
problems = []


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def tail(path):
    try:
        return open(path).read().strip()[-300:]
    except OSError:
        return ""


def other(report):
    o = report["status"]["other"]
    return sum(o.values()) if isinstance(o, dict) else o


def never_reached(report):
    e = report["errors"]
    return e.get("connect", 0) + e.get("local", 0) + e.get("tls", 0)


row = "{:<8} {:>5} {:>10} {:>8} {:>7} {:>7} {:>8} {:>8} {:>11}"
print(row.format("", "exit", "scheduled", "201", "400", "500", "dropped", "errors", "late ms"))
reports = []
for k in range(shards):
    r = load(f"{out}/shard-{k}.json")
    code = codes[k] if k < len(codes) else "-"
    if code not in ("0", "1"):
        problems.append(f"shard {k} exited {code}: {tail(f'{out}/shard-{k}.err')}")
    if r is None:
        problems.append(f"shard {k} wrote no report")
        print(row.format(f"shard {k}", code, *["-"] * 7))
        continue
    reports.append(r)
    shard = r.get("shard") or {}
    if shard.get("index") != k or shard.get("count") != shards:
        problems.append(f"shard {k}'s report says shard {shard}")
    late = (r.get("start") or {}).get("lateness_ms")
    print(row.format(f"shard {k}", code, r["requests"]["scheduled"], r["status"]["201"],
                     r["status"]["400"], r["status"]["500"], r.get("dropped", 0),
                     sum(v for v in r["errors"].values() if isinstance(v, int)),
                     "-" if late is None else f"{late:.1f}"))

merged = load(f"{out}/merged.json")
stats = load(f"{out}/stats.json") or {}
if merge_code not in ("0", "1"):
    problems.append(f"merge exited {merge_code}: {tail(f'{out}/merge.err')}")
if merged is None:
    problems.append("no merged report")
else:
    scheduled = merged["requests"]["scheduled"]
    print(row.format("merged", merge_code, scheduled, merged["status"]["201"], merged["status"]["400"],
                     merged["status"]["500"], merged.get("dropped", 0),
                     sum(v for v in merged["errors"].values() if isinstance(v, int)), "-"))
    planned = rate * duration
    if abs(scheduled - planned) > 1:
        problems.append(f"the shards scheduled {scheduled} requests, the plan is {planned} (±1)")
    summed = sum(r["requests"]["scheduled"] for r in reports)
    if len(reports) == shards and summed != scheduled:
        problems.append(f"the shards' reports add up to {summed} scheduled, the merged report says {scheduled}")
    if stats:
        print(row.format("server", "", stats["requests"], stats["201"], stats["400"], stats["500"], "", "", ""))
        pairs = [
            ("received", stats["requests"], scheduled - merged.get("dropped", 0) - never_reached(merged)),
            ("201", stats["201"], merged["status"]["201"]),
            ("400", stats["400"], merged["status"]["400"]),
            ("500", stats["500"], merged["status"]["500"]),
            ("other", stats["other"], other(merged)),
        ]
        problems += [f"{name}: server {a}, merged report {b}" for name, a, b in pairs if a != b]
    else:
        problems.append("the server did not answer /stats")
    single = load(f"{out}/single.json")
    if single is None or single_code not in ("0", "1"):
        problems.append(f"the unsharded run exited {single_code}: {tail(f'{out}/single.err')}")
    else:
        print(row.format("single", single_code, single["requests"]["scheduled"], single["status"]["201"],
                         single["status"]["400"], single["status"]["500"], single.get("dropped", 0),
                         sum(v for v in single["errors"].values() if isinstance(v, int)), "-"))
        def flat(bodies):
            kinds = {k: v for k, v in bodies.items() if k != "by_mutation"}
            kinds.update({f"mutation {k}": v for k, v in bodies.get("by_mutation", {}).items()})
            return kinds

        a, b = flat(merged["bodies"]), flat(single["bodies"])
        differ = [f"{k} {a.get(k, 0)} vs {b.get(k, 0)}" for k in sorted(set(a) | set(b)) if a.get(k, 0) != b.get(k, 0)]
        if differ:
            problems.append(f"bodies, merged vs one process: {'; '.join(differ[:6])}{' ...' if len(differ) > 6 else ''}")
for p in problems:
    print(f"  {p}")
print(f"reports in {out}")
sys.exit(1 if problems else 0)
PY
