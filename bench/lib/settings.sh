# Shared by the benchmark scripts: checks of the settings they take from
# the environment, so that a bad one is named before anything starts.
#
# need_whole VAR...: each named variable holds a whole number above 0, or
# a list of them (RATES="5000 20000"); else the script names the variable
# and the value and exits 2.
#
# need_switch VAR...: each named variable is 0 or 1; else the same.
#
# need_range VAR MIN MAX: the variable holds a whole number from MIN to
# MAX; else the same.
need_whole() {
  local setting value
  for setting in "$@"; do
    if [ -z "${!setting// /}" ]; then
      echo "${0##*/}: $setting is empty; give a whole number above 0" >&2
      exit 2
    fi
    for value in ${!setting}; do
      if ! [[ $value =~ ^[1-9][0-9]*$ ]]; then
        echo "${0##*/}: $setting: '$value' is not a whole number above 0" >&2
        exit 2
      fi
    done
  done
}

need_switch() {
  local setting
  for setting in "$@"; do
    if ! [[ ${!setting} =~ ^[01]$ ]]; then
      echo "${0##*/}: $setting must be 0 or 1, not '${!setting}'" >&2
      exit 2
    fi
  done
}

need_range() {
  local setting=$1 min=$2 max=$3
  if ! [[ ${!setting} =~ ^(0|[1-9][0-9]*)$ ]] || [ "${!setting}" -lt "$min" ] ||
    [ "${!setting}" -gt "$max" ]; then
    echo "${0##*/}: $setting must be a whole number from $min to $max, not '${!setting}'" >&2
    exit 2
  fi
}
