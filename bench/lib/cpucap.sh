# Shared by bench/compare.sh: a CPU quota for the generator. Source it after
# bench/lib/nginx.sh (it needs WORK) with CAP set, the generator's share of
# one core in percent (1-100). It makes a transient cgroup with that quota
# and sets CAP_MECHANISM (what it used, for the report), CAP_STAT (the
# cgroup's cpu.stat, whose nr_throttled says how often the quota bit) and
# CAP_RUN, a wrapper: `$CAP_RUN COMMAND...` moves itself into the cgroup
# and execs COMMAND, so the generator and all its threads run under the
# quota. The cgroup is removed on exit (cpucap_cleanup, called from
# nginx.sh's cleanup). CAP_PERIOD is the quota's period in µs: the
# generator runs at most CAP percent of each period and is stopped for the
# rest of it once it has used its share, so a shorter period means shorter
# stops. The sourcing script checks both first (bench/compare.sh: CAP
# 1-100, CAP_PERIOD 1000-1000000 as the kernel takes, and a quota of at
# least 1000 µs).
#
# Which mechanism, in this order:
#   cgroup v2  /sys/fs/cgroup/cgroup.controllers lists cpu: a child group
#              of the root, "+cpu" in the root's cgroup.subtree_control,
#              cpu.max = "QUOTA PERIOD"
#   cgroup v1  a mounted cgroup hierarchy with the cpu controller (found in
#              /proc/mounts): a child group with cpu.cfs_period_us = PERIOD
#              and cpu.cfs_quota_us = QUOTA
# Both need root. Neither: it says so and exits 2 (the uncapped mode,
# CAPPED=0, needs no cgroup).

CAP_PERIOD_US=$CAP_PERIOD
CAP_QUOTA_US=$((CAP_PERIOD_US * CAP / 100))
CAP_DIR=""
if grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
  CAP_DIR=/sys/fs/cgroup/mcload-bench.$$
  if { grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control ||
    echo +cpu >/sys/fs/cgroup/cgroup.subtree_control; } && mkdir "$CAP_DIR" &&
    echo "$CAP_QUOTA_US $CAP_PERIOD_US" >"$CAP_DIR/cpu.max"; then
    CAP_MECHANISM="cgroup v2, cpu.max = $CAP_QUOTA_US $CAP_PERIOD_US"
  else
    echo "${0##*/}: could not make a cgroup v2 group with cpu.max at $CAP_DIR" >&2
    rmdir "$CAP_DIR" 2>/dev/null || true
    exit 2
  fi
else
  v1=$(awk '$3 == "cgroup" && $4 ~ /(^|,)cpu(,|$)/ {print $2; exit}' /proc/mounts)
  if [ -n "$v1" ]; then
    CAP_DIR=$v1/mcload-bench.$$
    if ! { mkdir "$CAP_DIR" && echo "$CAP_PERIOD_US" >"$CAP_DIR/cpu.cfs_period_us" &&
      echo "$CAP_QUOTA_US" >"$CAP_DIR/cpu.cfs_quota_us"; }; then
      echo "${0##*/}: could not make a cgroup v1 group with cpu.cfs_quota_us at $CAP_DIR" >&2
      rmdir "$CAP_DIR" 2>/dev/null || true
      exit 2
    fi
    CAP_MECHANISM="cgroup v1 ($v1), cpu.cfs_quota_us = $CAP_QUOTA_US per cpu.cfs_period_us = $CAP_PERIOD_US"
  fi
fi
if [ -z "$CAP_DIR" ] || [ ! -d "$CAP_DIR" ]; then
  echo "${0##*/}: no cgroup with the cpu controller here (neither v2 cpu.max" \
    "nor v1 cpu.cfs_quota_us); run as root, or CAPPED=0 for the uncapped mode only" >&2
  exit 2
fi
CAP_STAT=$CAP_DIR/cpu.stat
CAP_RUN=$WORK/in-cgroup
cat >"$CAP_RUN" <<SH
#!/bin/sh
echo \$\$ >"$CAP_DIR/cgroup.procs" || exit 125
exec "\$@"
SH
chmod +x "$CAP_RUN"

# The group can only go once empty: every generator has exited by then
# (each ran under `timeout`); a straggler is given a second.
cpucap_cleanup() {
  [ -n "$CAP_DIR" ] && [ -d "$CAP_DIR" ] || return 0
  rmdir "$CAP_DIR" 2>/dev/null || { sleep 1; rmdir "$CAP_DIR" 2>/dev/null; } || true
}
