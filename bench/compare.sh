#!/usr/bin/env bash
# mcload against wrk, wrk2 and oha on one sessions endpoint, per generator
# CPU-second.
#
# nginx answers POST /api/v1/sessions with 201 and a Location (body read and
# discarded, access log off, one worker) pinned to core 0; each generator
# runs pinned to core 1 with 64 connections for DURATION s (default 8):
#   wrk-fixed   wrk with one fixed sessionStart body (~900 bytes)
#   wrk-lua     wrk with a Lua script that randomizes the body per request
#   mcload      mcload's closed model, a fresh random valid body per request
# then at a fixed 20,000 req/s:
#   mcload-20k  mcload's open model (latency from the intended start)
#   wrk2-20k    wrk2: `wrk2` on PATH, or WRK2=/path/to/wrk (wrk2's binary is
#               named wrk; build it from github.com/giltene/wrk2 with `make`)
#   oha-20k     oha, if `oha` is on PATH
# wrk sends the same headers as mcload (Host, User-Agent, Content-Type,
# Content-Length), so nginx does the same work for each request: nginx
# parses User-Agent, and that alone moved its throughput by 5-10% here.
#
# Two modes, the capped one first:
#   capped (the headline; CAPPED=1)  each generator runs under a CPU quota
#     of CAP percent of its core (default 50; bench/lib/cpucap.sh: cgroup v2
#     cpu.max, or v1 cpu.cfs_quota_us, whichever the machine has), so that
#     the generator, not nginx, is the bottleneck and nginx has room to
#     spare. Every run is checked: in max mode the generator's CPU time must
#     be at least BUSY (default 0.90) x quota x wall time; in the open model,
#     where a paced generator idles by design, it must be below that (the
#     rate reached, shown, is the tool's own, not the quota's); and nginx
#     must have used under 90% of its core. CAP_PERIOD (µs, default
#     100000) is the quota's period: the generator is stopped for the rest
#     of each period once it has used its share of it. A run that fails is
#     marked invalid, and a round with an invalid run gives no ratio. Each round
#     also runs mcload-open90, mcload's open model at 90% of the rate its
#     closed-model run reached in that round, under the same quota: it is
#     valid only if it kept that rate (>= 99.5%, nothing dropped). It
#     prints each run's requests per CPU-second, the ratios
#     mcload/wrk-fixed, mcload/wrk-lua and mcload-20k/wrk2-20k per round
#     and their medians over the valid rounds, the rate mcload-open90
#     kept, and mcload's send lag p99 (see the README).
#   uncapped (secondary; UNCAPPED=1)  the same runs without a quota: nginx's
#     core is then the ceiling, and the ratio measures nginx's wake-ups as
#     much as the generator (bench/RESULTS.md, "Why the ratio moves between
#     runs"); the table shows medians: requests/s, p50/p99/p99.9, generator
#     user+sys CPU seconds, requests per generator CPU-second, peak RSS,
#     nginx's own request count, and mcload/wrk; then each round's figures,
#     with nginx's CPU per request and how often the generator slept.
# Each mode runs ROUNDS rounds (default 5), the tools interleaved in each.
#
#   bench/compare.sh                                 # both modes, 5 rounds of 8 s
#   CAPPED=1 UNCAPPED=0 WRK2=/tmp/wrk2/wrk bench/compare.sh
#   CAP=25 ROUNDS=1 DURATION=5 bench/compare.sh
#
# Installs nginx-light, wrk and GNU time from Debian's packages if missing.
# Stops everything it started, by PID; every run is bounded by `timeout`.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-8}
CAPPED=${CAPPED:-1}
UNCAPPED=${UNCAPPED:-1}
CAP=${CAP:-50}
CAP_PERIOD=${CAP_PERIOD:-100000}
BUSY=${BUSY:-0.90}
WRK2=${WRK2:-$(command -v wrk2 || true)}
CONNECTIONS=${CONNECTIONS:-64}
RATE=${RATE:-20000}
PORT=${PORT:-18090}
SERVER_CORE=${SERVER_CORE:-0}
CLIENT_CORE=${CLIENT_CORE:-1}
# PORT and the cores are checked where nginx is started (bench/lib/nginx.sh).
# shellcheck source=lib/settings.sh
source bench/lib/settings.sh
need_whole ROUNDS DURATION CONNECTIONS RATE
need_switch CAPPED UNCAPPED
need_range CAP 1 100
need_range CAP_PERIOD 1000 1000000
if [ $((CAP_PERIOD * CAP / 100)) -lt 1000 ]; then
  echo "compare.sh: CAP=$CAP of CAP_PERIOD=$CAP_PERIOD µs is a quota of" \
    "$((CAP_PERIOD * CAP / 100)) µs; the kernel takes at least 1000" >&2
  exit 2
fi
if [ "$CAPPED$UNCAPPED" = 00 ]; then
  echo "compare.sh: CAPPED=0 and UNCAPPED=0 leave nothing to run" >&2
  exit 2
fi
if ! [[ $BUSY =~ ^0?\.[0-9]+$|^1(\.0*)?$ ]]; then
  echo "compare.sh: BUSY must be a fraction from 0 to 1, not '$BUSY'" >&2
  exit 2
fi
if [ -n "$WRK2" ] && ! [ -x "$WRK2" ]; then
  echo "compare.sh: WRK2=$WRK2 is not an executable (wrk2's binary, built with make)" >&2
  exit 2
fi

# shellcheck source=lib/nginx.sh
source bench/lib/nginx.sh
if [ "$CAPPED" = 1 ]; then
  # shellcheck source=lib/cpucap.sh
  source bench/lib/cpucap.sh
  echo "capped mode: $CAP% of core $CLIENT_CORE; $CAP_MECHANISM" >&2
fi
cargo build --release --quiet
MCLOAD=$PWD/target/release/mcload

# --- the generators ---------------------------------------------------------
BODY=$("$MCLOAD" sample scenarios/smoke.toml --count 1 --seed 1)
python3 - "$BODY" >"$WORK/fixed.lua" <<'PY'
import json, sys
body = sys.argv[1]
print(f'''wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["User-Agent"] = "mcload/0.1.0"
wrk.body = {json.dumps(body)}''')
PY
cat >>"$WORK/fixed.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %.0f %.0f %.0f\n", summary.requests,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
LUA
cat >"$WORK/random.lua" <<'LUA'
-- A fresh sessionStart per request: ids, names, lengths, playhead, content
-- type and custom metadata drawn at random, as mcload does.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["User-Agent"] = "mcload/0.1.0"
local kinds = { {"vod", "video"}, {"live", "video"}, {"podcast", "audio"}, {"song", "audio"} }
local hex = "0123456789abcdef"
local function hexid(n)
  local t = {}
  for i = 1, n do local k = math.random(1, 16); t[i] = hex:sub(k, k) end
  return table.concat(t)
end
request = function()
  local kind = kinds[math.random(1, #kinds)]
  local length = kind[1] == "live" and 86400 or math.random(30, 7200)
  local body = string.format(
    '{"playerTime":{"playhead":%d,"ts":%d},"eventType":"sessionStart","params":{' ..
    '"analytics.trackingServer":"acme.sc.omtrdc.net","analytics.reportSuite":"acme-prod-%d",' ..
    '"analytics.enableSSL":true,"visitor.marketingCloudOrgId":"%s@AdobeOrg",' ..
    '"media.playerName":"html5-player-%d","media.id":"%s","media.name":"Episode %d of %s",' ..
    '"media.length":%d,"media.contentType":"%s","media.streamType":"%s","media.channel":"ch-%d",' ..
    '"media.show":"Show %s","media.season":"%d","media.episode":"%d","media.genre":"drama",' ..
    '"media.network":"net-%d","media.showType":"%d"},"customMetadata":{"app.release":"2026.%d",' ..
    '"cms.tier":"%s","drm.system":"widevine"},"qoeData":{"media.qoe.bitrate":%d,' ..
    '"media.qoe.droppedFrames":%d,"media.qoe.framesPerSecond":30,"media.qoe.timeToStart":%d}}',
    math.random(0, length - 1), 1700000000000 + math.random(0, 999999999),
    math.random(1, 9), hexid(24), math.random(1, 5), hexid(16), math.random(1, 99),
    hexid(8), length, kind[1], kind[2], math.random(1, 40), hexid(6),
    math.random(1, 12), math.random(1, 24), math.random(1, 20), math.random(0, 3),
    math.random(1, 12), math.random() < 0.5 and "free" or "premium",
    math.random(800000, 6000000), math.random(0, 50), math.random(200, 3000))
  return wrk.format(nil, nil, nil, body)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %.0f %.0f %.0f\n", summary.requests,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
LUA

URL="http://127.0.0.1:$PORT"
LIMIT=$((DURATION + 30))

# nginx's user+sys CPU so far, in clock ticks (it is one process: no master).
nginx_ticks() {
  awk '{print $14 + $15}' "/proc/$NGINX_PID/stat"
}

# One measured run: NAME ROUND COMMAND...; writes
# $WORK/$MODE/NAME.ROUND.{out,time,nginx,wall}, under the quota when MODE
# is capped. Besides the generator's CPU and peak RSS, it keeps how often
# the generator went to sleep (voluntary context switches of all its
# threads; mcload's session-id thread adds one per 1,024 answers), nginx's
# CPU over the run, the wall time, and how many times the quota stopped
# the generator: together they show which way a run went (see "Why the
# ratio moves" in bench/RESULTS.md) and whether the generator was the
# bottleneck.
throttled() {
  if [ "$MODE" = capped ]; then awk '$1 == "nr_throttled" {print $2}' "$CAP_STAT"; else echo 0; fi
}
measure() {
  local name=$1 round=$2
  shift 2
  local before after ticks_before ticks_after start end thr_before thr_after wrap=()
  [ "$MODE" = capped ] && wrap=("$CAP_RUN")
  mkdir -p "$WORK/$MODE"
  local out=$WORK/$MODE/$name.$round
  before=$(nginx_requests)
  ticks_before=$(nginx_ticks)
  thr_before=$(throttled)
  start=$(date +%s%N)
  timeout "$LIMIT" /usr/bin/time -f "%U %S %M %w" -o "$out.time" \
    taskset -c "$CLIENT_CORE" "${wrap[@]}" "$@" >"$out.out" 2>"$out.err" || true
  end=$(date +%s%N)
  thr_after=$(throttled)
  ticks_after=$(nginx_ticks)
  after=$(nginx_requests)
  # The status request itself counts once.
  echo "$((after - before - 1)) $((ticks_after - ticks_before))" >"$out.nginx"
  echo "$(((end - start) / 1000)) $((thr_after - thr_before))" >"$out.wall"
  echo "  $MODE $name round $round done" >&2
}

MCLOAD_ARGS=(run scenarios/smoke.toml --target "$URL" --threads 1 --quiet --seed 7)
wrk_fixed() {
  measure wrk-fixed "$1" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" -s "$WORK/fixed.lua" "$URL/api/v1/sessions"
}
mcload_max() {
  measure mcload "$1" "$MCLOAD" "${MCLOAD_ARGS[@]}" --concurrency "$CONNECTIONS" \
    --duration "${DURATION}s" --json -
}
# The open model at 90% of the rate this round's closed-model run reached
# under the quota: it must keep that rate exactly (nothing dropped), which
# shows the open model's own cost is within 10% of the closed model's.
open_at_90() {
  local round=$1 rate90
  rate90=$(python3 -c 'import json, sys; print(int(0.9 * json.load(open(sys.argv[1]))["throughput_rps"]))' \
    "$WORK/$MODE/mcload.$round.out" 2>/dev/null || echo 0)
  if [ "$rate90" -gt 0 ]; then
    echo "$rate90" >"$WORK/$MODE/mcload-open90.$round.target"
    measure mcload-open90 "$round" "$MCLOAD" "${MCLOAD_ARGS[@]}" --rate "$rate90" \
      --connections "$CONNECTIONS" --duration "${DURATION}s" --json -
  else
    echo "  round $round: mcload-open90 skipped: the closed-model run left no rate" >&2
  fi
}
# One round: every tool once.
one_round() {
  local round=$1
  # The two runs compared for the target go back to back, first one then
  # the other, so that a round's ratio sees the same machine and a drift
  # over the rounds favours neither.
  if [ $((round % 2)) -eq 1 ]; then
    wrk_fixed "$round"
    mcload_max "$round"
  else
    mcload_max "$round"
    wrk_fixed "$round"
  fi
  if [ "$MODE" = capped ]; then open_at_90 "$round"; fi
  measure wrk-lua "$round" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" -s "$WORK/random.lua" "$URL/api/v1/sessions"
  if [ -n "$WRK2" ] && [ $((round % 2)) -eq 0 ]; then
    measure wrk2-20k "$round" "$WRK2" -t1 -c"$CONNECTIONS" -d"${DURATION}s" -R"$RATE" \
      -s "$WORK/fixed.lua" "$URL/api/v1/sessions"
  fi
  measure mcload-20k "$round" "$MCLOAD" "${MCLOAD_ARGS[@]}" --rate "$RATE" \
    --connections "$CONNECTIONS" --duration "${DURATION}s" --json -
  if [ -n "$WRK2" ] && [ $((round % 2)) -eq 1 ]; then
    measure wrk2-20k "$round" "$WRK2" -t1 -c"$CONNECTIONS" -d"${DURATION}s" -R"$RATE" \
      -s "$WORK/fixed.lua" "$URL/api/v1/sessions"
  fi
  if command -v oha >/dev/null; then
    measure oha-20k "$round" oha -c "$CONNECTIONS" -z "${DURATION}s" -q "$RATE" \
      --latency-correction --no-tui --json -m POST -d "$BODY" \
      -T application/json "$URL/api/v1/sessions"
  fi
}

if [ "$CAPPED" = 1 ]; then
  MODE=capped
  for round in $(seq "$ROUNDS"); do one_round "$round"; done
fi
if [ "$UNCAPPED" = 1 ]; then
  MODE=uncapped
  for round in $(seq "$ROUNDS"); do one_round "$round"; done
fi

if [ "$CAPPED" = 1 ]; then
echo "== capped: each generator under a quota of $CAP% of core $CLIENT_CORE ($CAP_MECHANISM)"
python3 - "$WORK/capped" "$DURATION" "$(getconf CLK_TCK)" "$CAP" "$BUSY" "$RATE" <<'PY'
import glob, json, os, re, statistics, sys

work, duration, ticks_per_s = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
cap, busy_min, rate = float(sys.argv[4]) / 100, float(sys.argv[5]), float(sys.argv[6])
OPEN = ("mcload-20k", "wrk2-20k", "oha-20k")
# Judged by the rate it kept, not by the generator's room under the quota.
OPEN90 = "mcload-open90"

def parse(name, path):
    out = open(path + ".out").read()
    user, sys_, _rss, _sleeps = open(path + ".time").read().split()[-4:]
    nginx, nginx_ticks = map(int, open(path + ".nginx").read().split())
    wall_us, throttled = map(int, open(path + ".wall").read().split())
    wall = wall_us / 1e6
    cpu = float(user) + float(sys_)
    lag_p99 = None
    if name.startswith("mcload"):
        r = json.loads(out)
        done, secs = r["requests"]["completed"], r["duration_s"]
        lag_p99 = (r.get("send_lag_ms") or {}).get("p99")
    elif name.startswith("oha"):
        r = json.loads(out)
        done, secs = sum(r["statusCodeDistribution"].values()), duration
    else:
        done, secs = int(re.search(r"RESULT (\d+)", out).group(1)), duration
    run = {"done": done, "rps": done / secs, "cpu": cpu, "wall": wall, "lag_p99": lag_p99,
           "per_cpu": done / cpu if cpu else 0.0,
           # share of the quota used over the whole run, and of nginx's core
           "busy": cpu / (cap * wall), "nginx_load": nginx_ticks / ticks_per_s / wall,
           "throttled": throttled, "nginx": nginx}
    why = []
    if name == OPEN90:
        target = float(open(path + ".target").read())
        run["target"], run["dropped"] = target, r["dropped"]
        if r["dropped"] or run["rps"] < 0.995 * target:
            why.append(f"kept {run['rps']:.0f}/s of {target:.0f}/s, dropped {r['dropped']}")
    elif name in OPEN:
        # At a fixed rate the generator must have had room under the quota,
        # so that the rate it reached was its own doing, not the cap's.
        if run["busy"] >= busy_min:
            why.append(f"CPU {run['busy']:.2f} of quota x wall: capped at the rate")
    elif run["busy"] < busy_min:
        why.append(f"CPU {run['busy']:.2f} of quota x wall < {busy_min}")
    if run["nginx_load"] >= 0.9:
        why.append(f"nginx at {run['nginx_load']:.2f} of its core")
    run["why"] = "; ".join(why)
    return run

runs = {}
for path in sorted(glob.glob(os.path.join(work, "*.time"))):
    base = path[:-5]
    name, rnd = os.path.basename(base).rsplit(".", 1)
    try:
        runs.setdefault(name, {})[int(rnd)] = parse(name, base)
    except Exception as e:  # a failed run counts as invalid, with why
        runs.setdefault(name, {})[int(rnd)] = None
        print(f"# {name} round {rnd}: unreadable run ({e})", file=sys.stderr)

order = [n for n in ["wrk-fixed", "wrk-lua", "mcload", "mcload-open90", "wrk2-20k",
                    "mcload-20k", "oha-20k"]
         if n in runs]
rounds = sorted({r for n in runs for r in runs[n]})
print("Per run: requests per generator CPU-second [CPU / (quota x wall), nginx's "
      "share of its core]; * = invalid")
print(f"{'generator':<11} " + " ".join(f"{'round ' + str(r):>24}" for r in rounds)
      + f" {'median':>9}")
for n in order:
    cells, good = [], []
    for r in rounds:
        x = runs[n].get(r)
        if x is None:
            cells.append(f"{'failed *':>24}")
            continue
        mark = "*" if x["why"] else " "
        cells.append(f"{x['per_cpu']:.0f} [{x['busy']:.2f}, {x['nginx_load']:.2f}]{mark}"
                     .rjust(24))
        if not x["why"]:
            good.append(x["per_cpu"])
    med = f"{statistics.median(good):9.0f}" if good else f"{'-':>9}"
    print(f"{n:<11} " + " ".join(cells) + " " + med)
for n in order:
    for r in rounds:
        x = runs[n].get(r)
        if x and x["why"]:
            print(f"  invalid: {n} round {r}: {x['why']}")
print(f"Requests/s (open model: achieved, against {rate:.0f}), median of valid runs: " + ", ".join(
    f"{n} {statistics.median(x['rps'] for x in runs[n].values() if x and not x['why']):.0f}"
    for n in order if any(x and not x["why"] for x in runs[n].values())))
print("Times the quota stopped the generator, by round: " + "; ".join(
    f"{n} " + " ".join(str(runs[n][r]["throttled"]) if runs[n].get(r) else "-" for r in rounds)
    for n in order))

if OPEN90 in runs:
    print("Open model at 90% of the round's closed-model rate (kept exactly: >= 99.5% of the "
          "target, nothing dropped): " + "; ".join(
        f"round {r}: {x['rps']:.0f}/s of {x['target']:.0f}/s, dropped {x['dropped']}"
        + (", send lag p99 %.3f ms" % x["lag_p99"] if x["lag_p99"] is not None else "")
        + (" (NOT kept)" if x["why"] else "")
        for r, x in sorted(runs[OPEN90].items()) if x))
for n in ("mcload", "mcload-20k"):
    lags = [x["lag_p99"] for x in runs.get(n, {}).values() if x and x["lag_p99"] is not None]
    if lags:
        print(f"{n} send lag p99 by round (ms): " + " ".join(f"{v:.3f}" for v in lags))

def ratio(a, b):
    out = []
    for r in rounds:
        x, y = runs.get(a, {}).get(r), runs.get(b, {}).get(r)
        if x and y and not x["why"] and not y["why"] and y["per_cpu"]:
            out.append(x["per_cpu"] / y["per_cpu"])
        else:
            out.append(None)
    return out

for a, b in [("mcload", "wrk-fixed"), ("mcload", "wrk-lua"), ("mcload-20k", "wrk2-20k"),
             ("mcload-20k", "oha-20k")]:
    if a not in runs or b not in runs:
        continue
    rs = ratio(a, b)
    valid = [v for v in rs if v is not None]
    print(f"{a} / {b} req/CPU-s by round: "
          + " ".join(f"{v:.2f}x" if v is not None else "invalid" for v in rs)
          + (f"  median {statistics.median(valid):.2f}x over {len(valid)} valid rounds"
             if valid else "  no valid round"))
PY
fi
if [ "$UNCAPPED" = 1 ]; then
echo "== uncapped (secondary): nginx's core is the ceiling"
python3 - "$WORK/uncapped" "$DURATION" "$(getconf CLK_TCK)" <<'PY'
import glob, json, os, re, statistics, sys

work, duration, ticks_per_s = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])

def parse(name, path):
    out = open(path + ".out").read()
    user, sys_, rss_kb, sleeps = open(path + ".time").read().split()[-4:]
    nginx, nginx_ticks = map(int, open(path + ".nginx").read().split())
    cpu = float(user) + float(sys_)
    if name.startswith("mcload"):
        r = json.loads(out)
        done = r["requests"]["completed"]
        secs = r["duration_s"]
        p = (r["latency_ms"]["p50"], r["latency_ms"]["p99"], r["latency_ms"]["p999"])
    elif name.startswith("oha"):
        r = json.loads(out)
        done = sum(r["statusCodeDistribution"].values())
        secs = duration
        lp = r["latencyPercentiles"]
        p = (lp["p50"] * 1e3, lp["p99"] * 1e3, lp["p99.9"] * 1e3)
    else:
        m = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+)", out)
        done = int(m.group(1))
        secs = duration
        p = tuple(int(m.group(k)) / 1000 for k in (2, 3, 4))
    return {"rps": done / secs, "p50": p[0], "p99": p[1], "p999": p[2], "cpu": cpu,
            "per_cpu": done / cpu if cpu else 0.0, "rss": int(rss_kb) / 1024, "nginx": nginx,
            "sleeps": int(sleeps) / duration,
            "nginx_us": nginx_ticks / ticks_per_s / nginx * 1e6 if nginx else 0.0}

runs = {}
for path in sorted(glob.glob(os.path.join(work, "*.time"))):
    base = path[:-5]
    name = os.path.basename(base).rsplit(".", 1)[0]
    try:
        runs.setdefault(name, []).append(parse(name, base))
    except Exception as e:  # a run that failed shows as missing, with why
        print(f"# {name}: unreadable run ({e})", file=sys.stderr)

order = ["wrk-fixed", "wrk-lua", "mcload", "mcload-20k", "wrk2-20k", "oha-20k"]
med = {n: {k: statistics.median(r[k] for r in runs[n]) for k in runs[n][0]}
       for n in order if n in runs}
print(f"{'generator':<11} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} "
      f"{'CPU s':>6} {'req/CPU-s':>10} {'RSS MiB':>8} {'nginx reqs':>11}")
for n, m in med.items():
    print(f"{n:<11} {m['rps']:9.0f} {m['p50']:8.3f} {m['p99']:8.3f} {m['p999']:9.3f} "
          f"{m['cpu']:6.2f} {m['per_cpu']:10.0f} {m['rss']:8.1f} {m['nginx']:11.0f}")
print(f"(medians of {len(next(iter(runs.values())))} runs each)")
if "mcload" in med and "wrk-fixed" in med:
    mc, wf, wl = med["mcload"], med["wrk-fixed"], med.get("wrk-lua")
    print(f"mcload / wrk-fixed: req/CPU-s {mc['per_cpu'] / wf['per_cpu']:.2f}x, "
          f"req/s {mc['rps'] / wf['rps']:.2f}x")
    if wl:
        print(f"mcload / wrk-lua:   req/CPU-s {mc['per_cpu'] / wl['per_cpu']:.2f}x, "
              f"req/s {mc['rps'] / wl['rps']:.2f}x")
    # Rounds interleave the tools, so a round's ratio compares runs made
    # under the same conditions; the spread shows how much the machine drifts.
    rounds = [m["per_cpu"] / w["per_cpu"] for m, w in zip(runs["mcload"], runs["wrk-fixed"])]
    print("mcload / wrk-fixed req/CPU-s by round: "
          + " ".join(f"{r:.2f}x" for r in rounds)
          + f" (median {statistics.median(rounds):.2f}x)")
for n in med:
    print(f"  {n:<11} req/CPU-s by round: " + " ".join(f"{r['per_cpu']:.0f}" for r in runs[n]))
# Which way each run went: nginx's core is the ceiling, so a generator that
# is faster than nginx sleeps, and every sleep and wake-up costs both cores.
print("nginx CPU µs per request, and generator sleeps per second, by round:")
for n in med:
    print(f"  {n:<11} " + " ".join(f"{r['nginx_us']:.2f}/{r['sleeps'] / 1000:.1f}k"
                                   for r in runs[n]))
if "mcload-20k" in med:
    m20 = med["mcload-20k"]
    print(f"mcload at 20k/s: {m20['per_cpu']:.0f} req/CPU-s, "
          f"p99 {m20['p99']:.3f} ms")
PY
fi
