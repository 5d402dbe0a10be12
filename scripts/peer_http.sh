#!/usr/bin/env bash
# Retract beside its peer (issue 15): one run, 127.0.0.1 only.
#   nginx        Debian nginx-light serving a static 2 KiB file (the HTTP ceiling)
#   privatebin   PrivateBin (nginx + php8.2-fpm + OPcache, filesystem storage): one 2 KiB
#                paste created once via the JSON API, read with GET /?pasteid=<id> and
#                X-Requested-With: JSONHttpRequest (its JSON read path)
#   retract-get  Retract release binary: GET /m/<token> (the interstitial page)
#   retract-open Retract: POST /m/<token>/open {"key": ...} (each open counts a view and
#                writes an access-event row; the message has no view limit)
# Method: wrk -t2 -c8 and -c32, -d10s --latency; ROUNDS (3) rounds interleaved
# (for each round, for each connection count: nginx, privatebin, retract-get, retract-open);
# medians. Server CPU (user+sys ticks from /proc/<pid>/stat, master + workers; PrivateBin =
# its nginx + php-fpm) is sampled right before and after every run, per request.
# Every server is started in the foreground as a child of this script and stopped by its PID.
# Nothing of PrivateBin is committed: it is cloned (bare, pinned to PB_COMMIT) from its
# public repository on first use, or taken from PB_GIT_DIR.
# Derived from the issue's ../shared/bench/peer_http.sh; `make bench` runs it after retract-bench.
#
# Usage:  scripts/peer_http.sh [BASE_PORT]   (from the project root; ports BASE, BASE+1, BASE+2; default 18080)
# Env:    DURATION=10s ROUNDS=3 CONNS="8 32" THREADS=2 WARMUP=2s NGINX_WORKERS=2 FPM_CHILDREN=4
#         TARGETS="nginx privatebin retract-get retract-open" (a subset for quick checks)
#         RETRACT_BIN=.build/release/retract (default; `swift build -c release --product retract`)
#         PB_GIT_DIR=<a PrivateBin git dir> (default: ${XDG_CACHE_HOME:-~/.cache}/retract-bench/PrivateBin.git,
#           cloned from PB_REPO=https://github.com/PrivateBin/PrivateBin if missing; PB_COMMIT is archived)
#         PB_COMMIT=ba60107a (the commit the issue-15 figures were taken with; "HEAD" for the newest)
#         LOAD_MAX=0.8 LOAD_WAIT=600  (wait up to LOAD_WAIT s for the 1-min load to fall below LOAD_MAX)
#         RESULTS_DIR=${TMPDIR:-/tmp}/peer-results  KEEP_TMP=1 (keep the scratch dir)
# Needs (Debian 12): apt-get install wrk nginx-light php8.2-fpm php8.2-cli php8.2-opcache curl git
#   (`make bench-deps` installs them)
# Writes: $RESULTS_DIR/peer-<UTC timestamp>.txt (everything printed).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PEER=$HERE/peer
BASE_PORT=${1:-18080}
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-"8 32"}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-2s}
NGINX_WORKERS=${NGINX_WORKERS:-2}
FPM_CHILDREN=${FPM_CHILDREN:-4}
PROJECT=$(cd "$HERE/.." && pwd)
RETRACT_BIN=${RETRACT_BIN:-$PROJECT/.build/release/retract}
PB_REPO=${PB_REPO:-https://github.com/PrivateBin/PrivateBin}
PB_GIT_DIR=${PB_GIT_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/retract-bench/PrivateBin.git}
PB_COMMIT=${PB_COMMIT:-ba60107a}
LOAD_MAX=${LOAD_MAX:-0.8}
LOAD_WAIT=${LOAD_WAIT:-600}
RESULTS_DIR=${RESULTS_DIR:-${TMPDIR:-/tmp}/peer-results}
PY=/usr/bin/python3
NGINX=/usr/sbin/nginx
FPM=/usr/sbin/php-fpm8.2
PHP=/usr/bin/php8.2
HZ=$(getconf CLK_TCK)
STATIC_PORT=$BASE_PORT
PB_PORT=$((BASE_PORT + 1))
RT_PORT=$((BASE_PORT + 2))
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RES=$RESULTS_DIR/peer-$STAMP.txt

die() { echo "peer_http: $*" >&2; exit 1; }
for tool in wrk curl ss pgrep "$PY" "$NGINX" "$FPM" "$PHP" git; do
  command -v "$tool" >/dev/null || die "missing $tool (apt-get install wrk nginx-light php8.2-fpm php8.2-cli php8.2-opcache curl)"
done
if [ ! -d "$PB_GIT_DIR" ]; then
  mkdir -p "$(dirname "$PB_GIT_DIR")"
  echo "peer_http: cloning PrivateBin from $PB_REPO into $PB_GIT_DIR" >&2
  git clone -q --bare "$PB_REPO" "$PB_GIT_DIR" || die "could not clone $PB_REPO (set PB_GIT_DIR to a PrivateBin git dir)"
fi
PB_REV=$(git --git-dir="$PB_GIT_DIR" rev-parse --verify -q "$PB_COMMIT^{commit}") \
  || die "PrivateBin commit $PB_COMMIT is not in $PB_GIT_DIR (git --git-dir=$PB_GIT_DIR fetch, or PB_COMMIT=HEAD)"
port_busy() { ss -Hltn "sport = :$1" | grep -q . || "$PY" -c "import socket,sys; s=socket.socket(); sys.exit(0 if s.connect_ex(('127.0.0.1',$1))==0 else 1)"; }
for p in "$STATIC_PORT" "$PB_PORT" "$RT_PORT"; do
  if port_busy "$p"; then die "port 127.0.0.1:$p is in use; pass another BASE_PORT"; fi
done

[ -x "$RETRACT_BIN" ] || die "no Retract binary at $RETRACT_BIN (swift build -c release --product retract)"

mkdir -p "$RESULTS_DIR"

main() {
  set -e
  T=$(mktemp -d /tmp/peer_http.XXXXXX)
  chmod 755 "$T"
  SERVERS=()    # "pid:signal" of every server started, for cleanup
  cleanup() {
    local entry pid sig i
    for entry in "${SERVERS[@]}"; do stop_server "${entry%%:*}" "${entry##*:}"; done
    SERVERS=()
    if [ -z "${KEEP_TMP:-}" ]; then rm -rf "$T"; else echo "# scratch dir kept: $T"; fi
  }
  trap cleanup EXIT
  trap 'exit 130' INT TERM

  echo "# peer_http.sh  $(date -u '+%Y-%m-%d %H:%M:%S UTC')  host $(hostname)  $(uname -sr)  nproc $(nproc)"
  echo "# cpu: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "# method: wrk -t$THREADS -c{${CONNS// /,}} -d$DURATION --latency, $ROUNDS rounds interleaved, medians;" \
    "warm-up $WARMUP per target and connection count; ports $STATIC_PORT (nginx), $PB_PORT (PrivateBin), $RT_PORT (Retract)"

  # --- wait for a quiet box -------------------------------------------------------------
  local waited=0
  while :; do
    local l1; l1=$(cut -d' ' -f1 /proc/loadavg)
    if awk -v l="$l1" -v m="$LOAD_MAX" 'BEGIN { exit !(l < m) }'; then break; fi
    if [ "$waited" -ge "$LOAD_WAIT" ]; then echo "# WARNING: 1-min load still $l1 after ${waited}s; going on"; break; fi
    [ "$waited" -eq 0 ] && echo "# waiting for the 1-min load ($l1) to fall below $LOAD_MAX ..." >&2
    sleep 10; waited=$((waited + 10))
  done
  echo "# before: $(uptime)"
  local q0 q1
  q0=$(awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6 }' /proc/stat); sleep 3
  q1=$(awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6 }' /proc/stat)
  echo "# box CPU busy over 3 s before start: $(echo "$q0 $q1" | awk '{ printf "%.1f %%", 100 * ($3 - $1) / ($4 - $2) }');" \
    "running now: $(ps -eo stat,comm --no-headers | awk '$1 ~ /^R/ && $2 != "ps" && $2 != "awk" {print $2}' | sort | uniq -c | tr -s ' \n' ' ')"

  # --- versions ----------------------------------------------------------------------------
  local MAIN_COMMIT; MAIN_COMMIT=$(git -C "$PROJECT" rev-parse --short HEAD 2>/dev/null || echo "?")
  echo "# versions: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //') (nginx-light $(dpkg-query -W -f='${Version}' nginx-light 2>/dev/null)),"\
    "$("$FPM" -v | head -1 | cut -d' ' -f1-2) fpm ($(dpkg-query -W -f='${Version}' php8.2-fpm 2>/dev/null)),"\
    "wrk $(dpkg-query -W -f='${Version}' wrk 2>/dev/null)"
  echo "# PrivateBin: $PB_REV ($(git --git-dir="$PB_GIT_DIR" describe --tags "$PB_REV" 2>/dev/null || echo no-tag), $(git --git-dir="$PB_GIT_DIR" log -1 --format=%cs "$PB_REV"))"
  local dirty; dirty=$(git -C "$PROJECT" status --porcelain --untracked-files=no 2>/dev/null | wc -l)
  echo "# Retract: binary $RETRACT_BIN ($(stat -c %y "$RETRACT_BIN" | cut -d. -f1)), project HEAD $MAIN_COMMIT ($dirty files modified)"

  # --- the 2 KiB payload: printable ASCII, exactly 2,048 bytes, no trailing newline -------
  local line="Peer HTTP benchmark payload: a 2 KiB message body in plain ASCII text, the same bytes for nginx and Retract. "
  "$PY" -c "import sys; s=sys.argv[1]; sys.stdout.write((s*(2048//len(s)+1))[:2048])" "$line" > "$T/body.txt"
  [ "$(stat -c %s "$T/body.txt")" = 2048 ] || die "payload is not 2048 bytes"

  local nuser=""
  [ "$(id -u)" = 0 ] && nuser="user www-data www-data;"
  nginx_conf() { # dir port root extra-server-config
    mkdir -p "$1"
    cat > "$1/nginx.conf" <<EOF
$nuser
worker_processes $NGINX_WORKERS;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  open_file_cache max=64;
  open_file_cache_valid 60s;
  client_body_temp_path $1/tmp_body;
  proxy_temp_path $1/tmp_proxy;
  fastcgi_temp_path $1/tmp_fcgi;
  uwsgi_temp_path $1/tmp_uwsgi;
  scgi_temp_path $1/tmp_scgi;
  server {
    listen 127.0.0.1:$2;
    root $3;
$4
  }
}
EOF
  }
  start_server() { # name signal logprefix cmd...  -> sets LAST_PID
    local name=$1 sig=$2 log=$3; shift 3
    "$@" > "$log.out" 2> "$log.err" &
    LAST_PID=$!
    SERVERS+=("$LAST_PID:$sig")
    echo "# started $name: pid $LAST_PID"
  }
  wait_http() { # url what pid [curl args...]
    local url=$1 what=$2 pid=$3; shift 3
    for _ in $(seq 200); do
      kill -0 "$pid" 2>/dev/null || die "$what (pid $pid) died at start"
      curl -s -o /dev/null --max-time 1 "$@" "$url" && return 0
      sleep 0.1
    done
    die "$what did not answer at $url"
  }

  # --- (a) nginx static ------------------------------------------------------------------
  mkdir -p "$T/static/html"
  cp "$T/body.txt" "$T/static/html/2k.txt"
  chmod -R a+rX "$T/static"
  nginx_conf "$T/static" "$STATIC_PORT" "$T/static/html" ""
  start_server "nginx (static)" QUIT "$T/static/nginx" "$NGINX" -p "$T/static" -c "$T/static/nginx.conf" -e "$T/static/error.log" -g 'daemon off;'
  NGX_S=$LAST_PID
  wait_http "http://127.0.0.1:$STATIC_PORT/2k.txt" "nginx (static)" "$NGX_S"

  # --- (b) PrivateBin: nginx + php-fpm ---------------------------------------------------
  mkdir -p "$T/pb/www" "$T/pb/data"
  git --git-dir="$PB_GIT_DIR" archive "$PB_REV" | tar -x -C "$T/pb/www"
  sed "s|^dir = PATH \"data\"|dir = \"$T/pb/data\"|" "$T/pb/www/cfg/conf.sample.php" > "$T/pb/www/cfg/conf.php"
  grep -q "^dir = \"$T/pb/data\"" "$T/pb/www/cfg/conf.php" || die "could not set PrivateBin's data dir in cfg/conf.php"
  cat > "$T/pb/www/_opcache_check.php" <<'EOF'
<?php $s = function_exists('opcache_get_status') ? opcache_get_status(false) : false;
echo json_encode($s ? ['opcache_enabled' => $s['opcache_enabled'], 'cached_scripts' => $s['opcache_statistics']['num_cached_scripts'],
  'hits' => $s['opcache_statistics']['hits'], 'misses' => $s['opcache_statistics']['misses'],
  'validate_timestamps' => ini_get('opcache.validate_timestamps'), 'jit' => ini_get('opcache.jit'), 'jit_buffer_size' => ini_get('opcache.jit_buffer_size')] : ['opcache_enabled' => false]);
EOF
  chmod -R a+rX "$T/pb/www"
  local fuser=""
  if [ "$(id -u)" = 0 ]; then chown www-data:www-data "$T/pb/data"; fuser=$'user = www-data\ngroup = www-data'; fi
  cat > "$T/pb/php-fpm.conf" <<EOF
[global]
pid = $T/pb/php-fpm.pid
error_log = $T/pb/php-fpm.log
daemonize = no
[privatebin]
$fuser
listen = $T/pb/php-fpm.sock
listen.mode = 0666
listen.backlog = 511
pm = static
pm.max_children = $FPM_CHILDREN
pm.max_requests = 0
catch_workers_output = yes
php_admin_flag[log_errors] = on
php_admin_value[error_log] = $T/pb/php-error.log
EOF
  start_server "php-fpm ($FPM_CHILDREN static children)" QUIT "$T/pb/php-fpm" "$FPM" -F -y "$T/pb/php-fpm.conf" \
    -d opcache.enable=1 -d opcache.validate_timestamps=0 -d opcache.memory_consumption=128 -d opcache.max_accelerated_files=10000
  FPM_PID=$LAST_PID
  for _ in $(seq 100); do [ -S "$T/pb/php-fpm.sock" ] && break; sleep 0.1; done
  [ -S "$T/pb/php-fpm.sock" ] || die "php-fpm did not create its socket (see $T/pb/php-fpm.log)"
  nginx_conf "$T/pb/nginx" "$PB_PORT" "$T/pb/www" "    index index.php;
    location / { try_files \$uri \$uri/ /index.php\$is_args\$args; }
    location ~ \\.php\$ {
      include /etc/nginx/fastcgi.conf;
      fastcgi_pass unix:$T/pb/php-fpm.sock;
    }"
  start_server "nginx (PrivateBin)" QUIT "$T/pb/nginx/nginx" "$NGINX" -p "$T/pb/nginx" -c "$T/pb/nginx/nginx.conf" -e "$T/pb/nginx/error.log" -g 'daemon off;'
  NGX_P=$LAST_PID
  wait_http "http://127.0.0.1:$PB_PORT/" "nginx (PrivateBin)" "$NGX_P"

  # the 2 KiB paste, created once through the JSON API
  "$PHP" "$PEER/make_paste.php" 1536 > "$T/pb/paste.json"
  local code
  code=$(curl -sS -o "$T/pb/create.json" -w '%{http_code}' -H 'X-Requested-With: JSONHttpRequest' \
    -H 'Content-Type: application/json' --data-binary @"$T/pb/paste.json" "http://127.0.0.1:$PB_PORT/")
  PB_ID=$("$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['status']==0, d; print(d['id'])" "$T/pb/create.json") \
    || die "PrivateBin create failed (HTTP $code): $(head -c 300 "$T/pb/create.json")"
  PB_URL="http://127.0.0.1:$PB_PORT/?pasteid=$PB_ID"
  pb_check() { # the JSON read: HTTP 200, status 0, same id, v and ciphertext; sets CHECK_MSG
    local c
    c=$(curl -sS -o "$T/pb/read.json" -w '%{http_code}' -H 'X-Requested-With: JSONHttpRequest' "$PB_URL") || die "PrivateBin read: curl failed"
    CHECK_MSG=$("$PY" "$PEER/pb_check.py" "$T/pb/read.json" "$T/pb/paste.json" "$PB_ID" "$c") || die "PrivateBin read check failed"
  }
  pb_check
  echo "# PrivateBin paste $PB_ID created (HTTP $code, $(stat -c %s "$T/pb/paste.json") B of JSON posted); read check: $CHECK_MSG"

  # --- (c) Retract -----------------------------------------------------------------------
  local RD=$T/retract
  mkdir -p "$RD"
  # without settings from the environment that would change what is measured (a send delay,
  # an SMTP relay: mail goes to the file outbox, chatty logs); its per-request log lines are
  # off (RETRACT_LOG_LEVEL=notice), as nginx's access_log is for nginx and PrivateBin
  local RT=(env -u LOG_LEVEL -u RETRACT_SEND_DELAY -u RETRACT_SMTP_URL -u RETRACT_TEMPLATES_DIR -u RETRACT_DATA_DIR
    -u RETRACT_KEYS_DIR -u RETRACT_PUBLIC_URL -u RETRACT_LOG_FORMAT RETRACT_LOG_LEVEL=notice "$RETRACT_BIN")
  rt() { "${RT[@]}" "$@"; }
  local G=(--data-dir "$RD/data" --keys-dir "$RD/keys")
  rt init "${G[@]}" > "$RD/init.out" 2>&1 || die "retract init failed: $(tail -3 "$RD/init.out")"   # holds secrets; not printed
  rt send "${G[@]}" --from a@corp.example --to b@partner.example --subject s --body "$(cat "$T/body.txt")" \
    --public-url "http://127.0.0.1:$RT_PORT" --show-links --json > "$RD/send.json" 2> "$RD/send.err" || die "retract send failed: $(tail -3 "$RD/send.err")"
  local ids
  ids=$("$PY" "$PEER/retract_json.py" send "$RD/send.json" b@partner.example) || die "could not read the link from retract send --json"
  read -r RT_MSG RT_TOKEN RT_KEY <<<"$ids"
  [ -n "${RT_KEY:-}" ] || die "could not read the link from retract send --json"
  start_server "retract serve" TERM "$RD/serve" "${RT[@]}" serve "${G[@]}" --host 127.0.0.1 --port "$RT_PORT" --public-url "http://127.0.0.1:$RT_PORT"
  RT_PID=$LAST_PID
  wait_http "http://127.0.0.1:$RT_PORT/healthz" "retract serve" "$RT_PID"
  RT_GET_URL="http://127.0.0.1:$RT_PORT/m/$RT_TOKEN"
  RT_OPEN_URL="http://127.0.0.1:$RT_PORT/m/$RT_TOKEN/open"
  RT_OPEN_BODY="{\"key\":\"$RT_KEY\"}"
  export RETRACT_LINK_KEY=$RT_KEY
  CURL_OPENS=0
  rt_check() { # GET /m/<token> and one open, both 200, the open holds the body; sets CHECK_MSG
    local c1 c2
    c1=$(curl -sS -o "$RD/get.html" -w '%{http_code}' "$RT_GET_URL") || die "GET /m/<token>: curl failed"
    c2=$(curl -sS -o "$RD/open.json" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$RT_OPEN_BODY" "$RT_OPEN_URL") \
      || die "POST /m/<token>/open: curl failed"
    CURL_OPENS=$((CURL_OPENS + 1))
    [ "$c1" = 200 ] || die "GET /m/<token>: HTTP $c1"
    [ "$c2" = 200 ] || die "POST /m/<token>/open: HTTP $c2: $(head -c 300 "$RD/open.json")"
    grep -q "Peer HTTP benchmark payload" "$RD/open.json" || die "open answer does not hold the body: $(head -c 300 "$RD/open.json")"
    CHECK_MSG="GET 200 ($(stat -c %s "$RD/get.html") B HTML), open 200 ($(stat -c %s "$RD/open.json") B JSON, body present)"
  }
  rt_check
  echo "# Retract message $RT_MSG sent (file outbox), serve pid $RT_PID; check: $CHECK_MSG"

  # --- measurement helpers ---------------------------------------------------------------
  proc_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
  tree_ticks() { local t=0 p q; for p in "$@"; do for q in "$p" $(pgrep -P "$p"); do t=$((t + $(proc_ticks "$q"))); done; done; echo "$t"; }
  server_ticks() {
    case $1 in
      nginx) tree_ticks "$NGX_S" ;;
      privatebin) tree_ticks "$NGX_P" "$FPM_PID" ;;
      retract-*) tree_ticks "$RT_PID" ;;
    esac
  }
  split_ticks() { if [ "$1" = privatebin ]; then tree_ticks "$FPM_PID"; else echo 0; fi; }
  # busy (user nice system irq softirq), all (busy + idle iowait steal), iowait, steal
  box_ticks() { awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8; print b, b + $5 + $6 + $9, $6, $9 }' /proc/stat; }
  wrk_args() { # target conns duration [script]
    local target=$1 c=$2 d=$3 s=${4:-}
    local a=(-t"$THREADS" -c"$c" -d"$d" --latency)
    case $target in
      nginx) a+=(${s:+-s "$s"} "http://127.0.0.1:$STATIC_PORT/2k.txt") ;;
      privatebin) a+=(${s:+-s "$s"} -H 'X-Requested-With: JSONHttpRequest' "$PB_URL") ;;
      retract-get) a+=(${s:+-s "$s"} "$RT_GET_URL") ;;
      retract-open) a+=(-s "${s:-$PEER/open.lua}" "$RT_OPEN_URL") ;;
    esac
    printf '%s\n' "${a[@]}"
  }
  TARGETS=${TARGETS:-"nginx privatebin retract-get retract-open"}
  WARM_OPENS=0

  # --- warm-up (unmeasured): every response must be 2xx ---------------------------------
  local target c out
  for c in $CONNS; do
    for target in $TARGETS; do
      out=$T/warm_${target}_c$c.txt
      mapfile -t args < <(wrk_args "$target" "$c" "$WARMUP" "$PEER/status.lua")
      if [ "$target" = retract-open ]; then
        WRK_METHOD=POST WRK_BODY=$RT_OPEN_BODY WRK_CTYPE=application/json wrk "${args[@]}" > "$out" 2>&1 || die "wrk failed: $(tail -3 "$out")"
        WARM_OPENS=$((WARM_OPENS + $(sed -n 's/^STATUS 2xx=\([0-9]*\) .*/\1/p' "$out")))
      else
        wrk "${args[@]}" > "$out" 2>&1 || die "wrk failed: $(tail -3 "$out")"
      fi
      grep -q '^STATUS .* other=0 ' "$out" || die "warm-up $target c$c: responses that are not 2xx: $(grep '^STATUS' "$out")"
      echo "# warm-up $target c$c: $(grep '^STATUS' "$out" | cut -d' ' -f2-3), $(awk '/^Requests\/sec:/ {print $2}' "$out") req/s"
    done
  done
  echo "# OPcache after warm-up: $(curl -sS "http://127.0.0.1:$PB_PORT/_opcache_check.php")"
  echo "# fpm workers: $(pgrep -P "$FPM_PID" | wc -l), nginx workers: $(pgrep -P "$NGX_S" | wc -l) static / $(pgrep -P "$NGX_P" | wc -l) PrivateBin," \
    "retract serve threads: $(ls "/proc/$RT_PID/task" | wc -l)"

  # --- measured rounds -------------------------------------------------------------------
  : > "$T/runs.tsv"
  local round s0 s1 x0 x1 b0 a0 w0 t0 b1 a1 w1 t1 tm
  for round in $(seq "$ROUNDS"); do
    echo "# round $round start: $(uptime | sed 's/.*load/load/')"
    for c in $CONNS; do
      for target in $TARGETS; do
        out=$T/run_${round}_c${c}_$target.txt
        mapfile -t args < <(wrk_args "$target" "$c" "$DURATION")
        s0=$(server_ticks "$target"); x0=$(split_ticks "$target"); read -r b0 a0 w0 t0 < <(box_ticks)
        tm=$( { TIMEFORMAT='%U %S'; time wrk "${args[@]}" > "$out" 2>&1; } 2>&1 ) || die "wrk failed: $(tail -3 "$out")"
        s1=$(server_ticks "$target"); x1=$(split_ticks "$target"); read -r b1 a1 w1 t1 < <(box_ticks)
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$c" "$target" "$out" $((s1 - s0)) $((x1 - x0)) \
          "$(awk '{print $1 + $2}' <<<"$tm")" $((b1 - b0)) $((a1 - a0)) $((w1 - w0)) $((t1 - t0)) "$HZ" >> "$T/runs.tsv"
        echo "#   round $round c$c $target: $(awk '/^Requests\/sec:/ {print $2}' "$out") req/s $(grep -E 'Non-2xx|Socket errors' "$out" | tr -s ' \n' ' ' || true)" >&2
      done
    done
  done
  echo "# after:  $(uptime)"

  # --- after: answers still right, views counted -----------------------------------------
  pb_check; echo "# after runs, PrivateBin read check: $CHECK_MSG"
  rt_check; echo "# after runs, Retract check: $CHECK_MSG"
  echo "# OPcache after runs: $(curl -sS "http://127.0.0.1:$PB_PORT/_opcache_check.php")"
  local errs
  errs=$(cat "$T/pb/php-error.log" "$T/pb/php-fpm.log" 2>/dev/null | grep -ciE 'error|warning|fatal' || true)
  echo "# php-fpm/PHP log lines with error/warning: $errs; nginx error.log lines: static $(wc -l < "$T/static/error.log"), PrivateBin $(wc -l < "$T/pb/nginx/error.log");" \
    "retract serve stderr: $(wc -l < "$RD/serve.err") lines ($(grep -ciE 'error|warn' "$RD/serve.err" || true) with error/warn)"
  stop_server "$RT_PID" TERM
  local measured_opens views
  measured_opens=$(awk -F'\t' '$3 == "retract-open" {print $4}' "$T/runs.tsv" | xargs -r sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' | awk '{s += $1} END {print s + 0}')
  rt status "${G[@]}" "$RT_MSG" --json > "$RD/status.json" 2> "$RD/status.err" || die "retract status failed: $(tail -3 "$RD/status.err")"
  views=$("$PY" "$PEER/retract_json.py" views "$RD/status.json") || die "no views in retract status --json"
  local expected=$((measured_opens + WARM_OPENS + CURL_OPENS))
  echo "# Retract views counted by the vault: $views; successful opens sent: $expected (measured $measured_opens + warm-up $WARM_OPENS + curl $CURL_OPENS)"
  if [ "$views" -lt "$expected" ]; then echo "# ERROR: the vault counted fewer views than wrk's successful opens"; fi
  stop_server "$NGX_S" QUIT; stop_server "$NGX_P" QUIT; stop_server "$FPM_PID" QUIT
  SERVERS=()
  echo "# all servers stopped by PID"
  echo
  "$PY" "$PEER/summarize.py" "$T/runs.tsv"
}

stop_server() { # pid signal: signal it, wait up to 10 s, then SIGKILL (by PID only)
  local pid=$1 sig=$2 kids
  kill -0 "$pid" 2>/dev/null || return 0
  kids=$(pgrep -P "$pid" || true)
  kill "-$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then echo "# pid $pid ignored SIG$sig for 10 s; SIGKILL" >&2; kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
  for k in $kids; do kill -0 "$k" 2>/dev/null && { sleep 1; kill -0 "$k" 2>/dev/null && kill -KILL "$k" 2>/dev/null; }; done
  return 0
}

set +e
main 2>&1 | tee "$RES"
rc=${PIPESTATUS[0]}
echo "# results: $RES (rc $rc)"
exit "$rc"
