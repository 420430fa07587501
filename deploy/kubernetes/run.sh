#!/usr/bin/env bash
# One sharded mcload run on a Kubernetes cluster, end to end: the scenario
# into a ConfigMap, a start instant all pods share, the Indexed Job
# (job.yaml), a wait for every shard to finish, each shard's report from its
# pod's log, and `mcload merge` over them (run here, with a local mcload).
# Exits like `mcload merge` (0 passed, 1 the verdict failed, 2 a report is
# missing or does not belong), or 3 when a shard could not run (late for the
# start, never scheduled) and so the whole plan was not sent.
#
#   IMAGE=registry.example.com/mcload:0.1.0 deploy/kubernetes/run.sh
#   SHARDS=5 SCENARIO=my.toml LEAD=180 deploy/kubernetes/run.sh
#
# Environment:
#   IMAGE      the image the pods run (default mcload:latest; see Dockerfile)
#   SHARDS     pods, one shard each (default 3)
#   SCENARIO   the scenario file (default deploy/kubernetes/scenario.toml)
#   LEAD       seconds from the ConfigMap's creation to the shared start
#              (default 120): time for every pod to be scheduled, pull the
#              image and start. A pod that starts later than the instant
#              plus mcload's --start-tolerance exits 3 without sending.
#   WAIT       seconds to wait for the Job after the start (default 3600)
#   OUT        where the shard reports and the merged report go
#              (default deploy/kubernetes/out)
#   MCLOAD     the local mcload that merges (default: build target/release/mcload)
#   KUBECTL    kubectl, with any flags such as a namespace
#              (default "kubectl"; e.g. KUBECTL="kubectl -n load")
#
# Needs kubectl with a context for the cluster, GNU date, and a local
# mcload with `run --shard` and `merge`. It deletes the Job `mcload` and
# the ConfigMap `mcload-run` of an earlier run first.
set -euo pipefail
cd "$(dirname "$0")/../.."

here=deploy/kubernetes
IMAGE=${IMAGE:-mcload:latest}
SHARDS=${SHARDS:-3}
SCENARIO=${SCENARIO:-$here/scenario.toml}
LEAD=${LEAD:-120}
WAIT=${WAIT:-3600}
OUT=${OUT:-$here/out}
read -r -a kubectl <<<"${KUBECTL:-kubectl}"

die() {
  echo "run.sh: $*" >&2
  exit 2
}
[[ $SHARDS =~ ^[1-9][0-9]*$ ]] || die "SHARDS must be a whole number above 0, not '$SHARDS'"
[[ $LEAD =~ ^[1-9][0-9]*$ ]] || die "LEAD must be a whole number of seconds, not '$LEAD'"
[[ $WAIT =~ ^[1-9][0-9]*$ ]] || die "WAIT must be a whole number of seconds, not '$WAIT'"
[ -f "$SCENARIO" ] || die "SCENARIO=$SCENARIO is not a file"
command -v "${kubectl[0]}" >/dev/null || die "${kubectl[0]} not found: install kubectl, or name it with KUBECTL"
date -u -d @0 +%s >/dev/null 2>&1 || die "needs GNU date (on macOS: coreutils' gdate, first on PATH as date)"

if [ -z "${MCLOAD:-}" ]; then
  cargo build --release --locked --quiet
  MCLOAD=target/release/mcload
fi
# The local mcload must speak the shards' language; the image is built from
# the same sources.
run_help=$("$MCLOAD" run --help)
grep -q -- '--shard' <<<"$run_help" || die "$MCLOAD has no 'run --shard': build mcload from a version with sharded runs"
"$MCLOAD" merge --help >/dev/null 2>&1 || die "$MCLOAD has no 'merge' command: build mcload from a version with sharded runs"
"$MCLOAD" validate "$SCENARIO" >/dev/null || die "SCENARIO=$SCENARIO is not a valid scenario (see above)"

rm -rf "$OUT"
mkdir -p "$OUT"

# --- the scenario and the shared start --------------------------------------
# Foreground: the old Job goes only after its pods, so none of them is
# taken for one of this run's.
"${kubectl[@]}" delete job mcload --ignore-not-found --cascade=foreground --wait=true >/dev/null
"${kubectl[@]}" delete configmap mcload-run --ignore-not-found >/dev/null
"${kubectl[@]}" create configmap mcload-run --from-file=scenario.toml="$SCENARIO" \
  --from-literal=shards="$SHARDS" --from-literal=start-at=pending >/dev/null
# The start is counted from the ConfigMap's creation as the API server
# stamped it, not from this machine's clock: the pods' nodes keep the
# cluster's time, and a laptop's clock may be off by more than the
# tolerance.
created=$("${kubectl[@]}" get configmap mcload-run -o jsonpath='{.metadata.creationTimestamp}')
created_s=$(date -u -d "$created" +%s)
start_at=$(date -u -d "@$((created_s + LEAD))" +%Y-%m-%dT%H:%M:%SZ)
"${kubectl[@]}" patch configmap mcload-run --type merge \
  -p "{\"data\":{\"start-at\":\"$start_at\"}}" >/dev/null

# --- the Job -----------------------------------------------------------------
# Three lines of job.yaml change: completions and parallelism to SHARDS, the
# image to IMAGE. Each must match exactly once.
sed -e "s|^  completions: [0-9]*\$|  completions: $SHARDS|" \
  -e "s|^  parallelism: [0-9]*\$|  parallelism: $SHARDS|" \
  -e "s|^          image: .*\$|          image: $IMAGE|" \
  "$here/job.yaml" >"$OUT/job.yaml"
for line in "  completions: $SHARDS" "  parallelism: $SHARDS" "          image: $IMAGE"; do
  [ "$(grep -cxF "$line" "$OUT/job.yaml")" -eq 1 ] || die "$here/job.yaml: could not set '${line# *}' (was the file reshaped?)"
done
"${kubectl[@]}" apply -f "$OUT/job.yaml" >/dev/null
uid=$("${kubectl[@]}" get job mcload -o jsonpath='{.metadata.uid}')
echo "run.sh: $SHARDS shards of $SCENARIO with $IMAGE, starting at $start_at (the Job was created $created)"

# --- wait ----------------------------------------------------------------------
deadline=$(($(date +%s) + LEAD + WAIT))
state=
while :; do
  state=$("${kubectl[@]}" get job mcload \
    -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type}{" "}{end}')
  case " $state " in
    *" Complete "* | *" Failed "*) break ;;
  esac
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "run.sh: the Job has not finished $WAIT s after the start; collecting what is there" >&2
    break
  fi
  sleep 5
done

# --- collect -------------------------------------------------------------------
# One line per pod: index, name, exit code (empty while it has none).
"${kubectl[@]}" get pods -l controller-uid="$uid" -o jsonpath='{range .items[*]}{.metadata.annotations.batch\.kubernetes\.io/job-completion-index}{" "}{.metadata.name}{" "}{.status.containerStatuses[0].state.terminated.exitCode}{"\n"}{end}' \
  >"$OUT/pods.txt"
late=()
missing=()
printf '%-6s %-32s %-5s %s\n' shard pod exit report
for k in $(seq 0 $((SHARDS - 1))); do
  read -r _ pod code < <(awk -v k="$k" '$1 == k' "$OUT/pods.txt" | head -1) || true
  report="-"
  if [ -n "${pod:-}" ]; then
    "${kubectl[@]}" logs "$pod" >"$OUT/shard-$k.log" 2>&1 || true
    # The report is the log's one JSON object: from a line that is `{` to
    # the line that is `}`. Anything else in the log is mcload's stderr.
    awk '/^\{$/ { on = 1 } on { print } on && /^\}$/ { exit }' "$OUT/shard-$k.log" >"$OUT/shard-$k.json"
    if [ -s "$OUT/shard-$k.json" ]; then
      report="$OUT/shard-$k.json"
    else
      rm -f "$OUT/shard-$k.json"
    fi
  fi
  printf '%-6s %-32s %-5s %s\n' "$k" "${pod:--}" "${code:--}" "$report"
  [ "${code:-}" = 3 ] && late+=("$k")
  [ "$report" = "-" ] && missing+=("$k")
  pod='' code=''
done

if [ ${#missing[@]} -gt 0 ]; then
  for k in "${missing[@]}"; do
    [ -s "$OUT/shard-$k.log" ] && sed "s/^/  shard $k: /" "$OUT/shard-$k.log" | tail -3 >&2
  done
  for k in "${late[@]}"; do
    echo "run.sh: shard $k started after $start_at plus the tolerance and sent nothing (exit 3): raise LEAD, or pull the image on the nodes beforehand" >&2
  done
  echo "run.sh: no report from shard(s) ${missing[*]}: the plan was not sent whole, so there is nothing to merge (each shard's log is in $OUT)" >&2
  exit 3
fi

# --- merge -----------------------------------------------------------------------
status=0
"$MCLOAD" merge "$OUT"/shard-*.json --text --json "$OUT/merged.json" --html "$OUT/merged.html" || status=$?
echo "run.sh: merged report in $OUT/merged.json and $OUT/merged.html; merge exited $status"
exit "$status"
