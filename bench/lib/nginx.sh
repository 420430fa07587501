# Shared by the benchmark scripts; source it after setting PORT,
# SERVER_CORE and CLIENT_CORE, which it checks (a bad one is named and
# exits 2). It installs what the scripts need from Debian's packages
# (nginx-light, wrk, GNU time, and the packages a script names in NEEDS),
# starts nginx as a sessions endpoint (POST /api/v1/sessions answers 201
# with a Location; the body is read and discarded; access log off; one
# worker) pinned to $SERVER_CORE on 127.0.0.1:$PORT, and sets WORK, a
# temporary directory. If nginx does not come up, it says why and exits 1
# rather than measure whatever else answers on the port. On exit it stops
# nginx by its PID and removes WORK.

cores=$(nproc)
if ! [[ $PORT =~ ^[1-9][0-9]*$ ]] || [ "$PORT" -gt 65535 ]; then
  echo "${0##*/}: PORT must be a port number (1-65535), not '$PORT'" >&2
  exit 2
fi
for setting in SERVER_CORE CLIENT_CORE; do
  if ! [[ ${!setting} =~ ^[0-9]+$ ]] || [ "${!setting}" -ge "$cores" ]; then
    echo "${0##*/}: $setting must be a core number below $cores, not '${!setting}'" >&2
    exit 2
  fi
done

# A script may need more: NEEDS lists COMMAND:PACKAGE pairs.
need=()
for pair in ${NEEDS:-}; do
  command -v "${pair%%:*}" >/dev/null || need+=("${pair#*:}")
done
command -v nginx >/dev/null || need+=(nginx-light)
command -v wrk >/dev/null || need+=(wrk)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  apt-get install -y "${need[@]}" >/dev/null 2>&1 ||
    { apt-get update >/dev/null && apt-get install -y "${need[@]}" >/dev/null; }
fi

WORK=$(mktemp -d)
NGINX_PID=""
cleanup() {
  if [ -n "$NGINX_PID" ]; then
    kill "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
  fi
  if declare -F cpucap_cleanup >/dev/null; then cpucap_cleanup; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/body"
cat >"$WORK/nginx.conf" <<CONF
worker_processes 1;
daemon off;
master_process off;
pid $WORK/nginx.pid;
error_log $WORK/error.log error;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 75s;
  client_body_temp_path $WORK/body;
  client_body_buffer_size 16k;
  server {
    listen 127.0.0.1:$PORT backlog=4096;
    location = /api/v1/sessions {
      add_header Location /api/v1/sessions/\$request_id always;
      return 201;
    }
    location = /nginx_status { stub_status; }
  }
}
CONF
# nginx's own count of the requests it has served so far.
nginx_requests() {
  python3 -c '
import sys, urllib.request
text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/nginx_status").read().decode()
# "Active connections: N / server accepts handled requests / A H R"
print(int(text.split("\n")[2].split()[2]))
' "$PORT"
}

taskset -c "$SERVER_CORE" nginx -c "$WORK/nginx.conf" -p "$WORK" &
NGINX_PID=$!
# Up when this nginx runs and its status page answers: a port taken by
# another server makes nginx exit, and that server must not be measured in
# its place.
up=""
for _ in $(seq 50); do
  kill -0 "$NGINX_PID" 2>/dev/null || break
  if nginx_requests >/dev/null 2>&1; then
    up=yes
    break
  fi
  sleep 0.1
done
sleep 0.2
if [ -z "$up" ] || ! kill -0 "$NGINX_PID" 2>/dev/null; then
  echo "${0##*/}: nginx did not start on 127.0.0.1:$PORT:" >&2
  tail -n 3 "$WORK/error.log" >&2 2>/dev/null || true
  exit 1
fi
