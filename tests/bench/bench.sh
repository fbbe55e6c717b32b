#!/usr/bin/env bash
# `make bench` (after `make up`): measures the API, the cost of listening calls, turn timing,
# local speech and memory on the running local stack, each against a floor or a baseline taken
# in the same run, then rewrites BENCHMARKS.md. Results (JSON) go to .stack/bench/results/<time>/.
#
# Environment: BENCH_REPEATS (3), BENCH_API_SECONDS (2), BENCH_API_CALL_SECONDS (1), BENCH_LISTEN_N (1,10,50,100),
# BENCH_PARTS (endpointer,api,listen,floor,turn,speech: run only these), BENCH_NO_REPORT=1 (leave
# BENCHMARKS.md alone), BENCH_BUILD (release: measure the extension's release build, what
# `make dist` ships; debug: the build `make up` loads).
#
# The module's settings it changes for the run (max_concurrent_calls) are saved first and put
# back on exit, also after a failure (and at the start of the next run if this one was killed).
# Likewise the extension: for the parts that go through PHP (api, listen, turn) Apache and the
# PHP CLI (the AGI scripts) load target/release/libapicall.so, built first; the debug build is
# put back on exit (a run killed outright leaves that to the next `make up`).
set -uo pipefail
. "$(dirname "$0")/../stack/lib.sh"
bsay() { printf '[bench] %s\n' "$*"; }

[ "$(id -u)" = 0 ] || die "bench.sh must run as root (like the stack scripts)"
[ -f "$STACK/env" ] || die "no $STACK/env: run 'make up' first"
PY="$STACK/venv/bin/python"
HERE="$REPO/tests/bench"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
export BENCH_OUT="$STACK/bench/results/$STAMP"
mkdir -p "$BENCH_OUT"
export BENCH_REPEATS=${BENCH_REPEATS:-3}
export BENCH_API_SECONDS=${BENCH_API_SECONDS:-2}
export BENCH_API_CALL_SECONDS=${BENCH_API_CALL_SECONDS:-1}
LISTEN_N=${BENCH_LISTEN_N:-1,10,50,100}
PARTS=${BENCH_PARTS:-endpointer,api,listen,floor,turn,speech}
T_ALL=$(date +%s.%N)
want() { [[ ",$PARTS," == *",$1,"* ]]; }

# ---------------------------------------------------------------- tools
if ! command -v wrk >/dev/null; then
  bsay "installing wrk (Debian)"
  apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1; apt-get install -y -qq wrk >/dev/null; } \
    || die "could not install wrk"
fi

# ---------------------------------------------------------------- settings for the run
"$PY" -c "import sys; sys.path.insert(0, '$HERE'); import benchlib; r = benchlib.restore_settings(); r and print('[bench] settings of an interrupted run restored:', r)"
EXT_SWITCHED=0
restore() {
  "$PY" -c "import sys; sys.path.insert(0, '$HERE'); import benchlib; benchlib.restore_settings()" \
    && bsay "module settings restored" || warn "could not restore the module settings: see $STACK/bench/settings-saved.json"
  if [ "$EXT_SWITCHED" = 1 ]; then
    ( restore_ext ) || warn "could not put the debug build back: run 'make up' (it rewrites the ini files and restarts Apache)"
    EXT_SWITCHED=0
  fi
}
trap restore EXIT
trap 'exit 130' INT TERM
"$PY" -c "import sys; sys.path.insert(0, '$HERE'); import benchlib; benchlib.set_settings({'max_concurrent_calls': '100000'})" \
  || die "could not change the module settings"
bsay "max_concurrent_calls = 100000 for the run (restored at the end)"

# ---------------------------------------------------------------- floor pages
# Served by the stack's own Apache through a symlink in its DocumentRoot (FollowSymLinks is on
# there): no Apache configuration changes, the same workers, php.ini and extension.
mkdir -p "$STACK/bench/www"
cp "$HERE/floor/hello.php" "$STACK/bench/www/hello.php"
( set -a; . "$STACK/env"; set +a
  sed -e "s|@DB_SOCK@|$DB_SOCKET|" -e "s|@DB_USER@|$DB_USER|" -e "s|@DB_PASS@|$DB_PASS|" \
      -e "s|@DB_NAME@|$DB_NAME|" "$HERE/floor/token.php" > "$STACK/bench/www/token.php" )
( set -a; . "$STACK/env"; set +a
  sed -e "s|@DB_SOCK@|$DB_SOCKET|" -e "s|@DB_USER@|$DB_USER|" -e "s|@DB_PASS@|$DB_PASS|" \
      -e "s|@DB_NAME@|$DB_NAME|" -e "s|@SPOOL_TMP@|$ASTSPOOLDIR/tmp|" "$HERE/floor/durable.php" \
      > "$STACK/bench/www/durable.php" )
sed -e "s|@REPO@|$REPO|" "$HERE/floor/bootstrap.php" > "$STACK/bench/www/bootstrap.php"
chown -R "$AST_USER:$AST_USER" "$STACK/bench/www"
ln -sfn ../bench/www "$STACK/www/bench"

# ---------------------------------------------------------------- the extension's build
# Users run the release build (`make dist` ships target/release/libapicall.so); `make up` loads
# the debug build ($EXT_SO). Apache (php.ini) and the PHP CLI (conf.d/apicall.ini: the AGI
# scripts) are switched to the build measured, and Apache is restarted the way up.sh does it
# when the extension changed (graceful-stop, then a fresh start: a Rust cdylib need not unload on
# a graceful restart). Which file each has mapped is read from /proc, at the start and the end.
BUILD=${BENCH_BUILD:-release}
REL_SO="$REPO/target/release/libapicall.so"
AP_CONF="$STACK/apache/httpd.conf"
AP_PID="$STACK/apache/run/httpd.pid"
AP_STAMP="$STACK/apache/run/loaded.stamp"
AP_INI="$STACK/php/apache2/php.ini"
CLI_INI="$PHP_CLI_CONF_D/apicall.ini"

ini_ext() { sed -n 's|^extension=\(.*/libapicall\.so\)$|\1|p' "$1" | tail -1; }
set_ini_ext() {   # set_ini_ext SO: both ini files load SO
  local f
  for f in "$AP_INI" "$CLI_INI"; do
    [ -n "$(ini_ext "$f")" ] || { warn "$f loads no libapicall.so (make up found no extension?)"; return 1; }
    sed -i "s|^extension=.*/libapicall\.so\$|extension=$1|" "$f" || return 1
  done
}
ap_mapped() {     # the libapicall.so files the running Apache parent has mapped
  local pid; pid=$(cat "$AP_PID" 2>/dev/null) || return 0
  grep -o '/[^ ]*libapicall\.so' "/proc/$pid/maps" 2>/dev/null | sort -u | paste -sd' '
}
cli_mapped() {    # the same for a PHP CLI started the way Asterisk starts the AGI scripts
  env PHP_INI_SCAN_DIR=":$PHP_CLI_CONF_D" php -r 'echo file_get_contents("/proc/self/maps");' 2>/dev/null \
    | grep -o '/[^ ]*libapicall\.so' | sort -u | paste -sd' '
}
ap_http_ok() { curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$WEB_PORT/"; }
ap_restart() {    # as tests/stack/up.sh does when the extension changed
  local old_pid
  old_pid=$(cat "$AP_PID" 2>/dev/null || true)
  if [ -n "$old_pid" ] && kill -0 "$old_pid" 2>/dev/null; then
    apache2 -f "$AP_CONF" -k graceful-stop || true
    # The parent goes first; its children finish their requests (GracefulShutdownTimeout 10 s)
    # and keep the listening socket until then.
    for _ in $(seq 1 120); do
      kill -0 "$old_pid" 2>/dev/null || [ -n "$(ss -Htln "sport = :$WEB_PORT")" ] || break
      sleep 0.25
    done
    if kill -0 "$old_pid" 2>/dev/null || [ -n "$(ss -Htln "sport = :$WEB_PORT")" ]; then
      warn "apache (pid $old_pid) did not stop within 30 s"; return 1
    fi
  fi
  rm -f "$AP_PID"
  # Every inherited descriptor closed, not only fd 9: run as `flock LOCK make bench`, Apache
  # kept the lock's descriptor after the bench ended and every stack run waited on it.
  without_inherited_fds env -u PHP_INI_SCAN_DIR apache2 -f "$AP_CONF" -k start || return 1
  for _ in $(seq 1 80); do
    [ -f "$AP_PID" ] && kill -0 "$(cat "$AP_PID")" 2>/dev/null && ap_http_ok && return 0
    sleep 0.25
  done
  tail -20 "$STACK/apache/logs/error.log" >&2; warn "apache did not start"; return 1
}
use_ext() {       # use_ext SO: (in a subshell) both ini files load SO, Apache restarted
  stack_lock      # not while an up.sh/down.sh of this checkout runs
  set_ini_ext "$1" || return 1
  # What the running Apache loaded, for up.sh: not what it would load itself, so a `make up`
  # during the run restarts Apache with the debug build.
  echo "tests/bench/bench.sh: $1" > "$AP_STAMP"
  ap_restart || return 1
  [ "$(ap_mapped)" = "$1" ] || { warn "Apache has '$(ap_mapped)' mapped, not $1"; return 1; }
  [ "$(cli_mapped)" = "$1" ] || { warn "the PHP CLI has '$(cli_mapped)' mapped, not $1"; return 1; }
}
restore_ext() {   # (in a subshell) the debug build back, as `make up` left it
  use_ext "$EXT_SO" || return 1
  # The stamp as up.sh computes it (its ap_want), so the next `make up` does not restart Apache.
  { md5sum < "$AP_CONF"; md5sum < "$AP_INI"; stat -c '%i %s %Y' "$EXT_SO"; md5sum < "$EXT_SO"; } \
    | md5sum > "$AP_STAMP"
  bsay "extension: Apache and the PHP CLI load the debug build again ($EXT_SO)"
}

export BENCH_EXT_BUILD="" BENCH_EXT_SO="" BENCH_EXT_APACHE_START="" BENCH_EXT_CLI_START=""
export BENCH_EXT_APACHE_END="" BENCH_EXT_CLI_END=""
if want api || want listen || want turn; then
  case "$BUILD" in
    release)
      t=$(date +%s.%N)
      bsay "release build of the extension (cargo build --release -p apicall-php; some minutes when nothing is built in release yet)"
      cargo build --release -p apicall-php || die "the release build of the extension failed"
      bsay "release build of the extension: $(elapsed "$t")"
      printf 'release-build-ext %s\n' "$(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')" \
        >> "$BENCH_OUT/durations.txt"
      nm -D --defined-only "$REL_SO" 2>/dev/null | grep ' get_module$' >/dev/null \
        || die "$REL_SO is not a PHP extension (no get_module symbol)"
      SO=$REL_SO ;;
    debug) SO=$EXT_SO ;;
    *) die "BENCH_BUILD must be release or debug, not '$BUILD'" ;;
  esac
  EXT_SWITCHED=1
  t=$(date +%s.%N)
  ( use_ext "$SO" ) || die "could not switch Apache and the PHP CLI to $SO"
  BENCH_EXT_BUILD=$BUILD BENCH_EXT_SO=$SO
  BENCH_EXT_APACHE_START=$(ap_mapped) BENCH_EXT_CLI_START=$(cli_mapped)
  bsay "extension: Apache and the PHP CLI (AGI scripts) load the $BUILD build for the run ($SO; Apache restarted in $(elapsed "$t"))"
fi

# ---------------------------------------------------------------- machine facts
facts() {
  local when=$1
  "$PY" - "$when" <<'PY'
import json, os, platform, subprocess, sys, time
out = os.environ["BENCH_OUT"]
path = os.path.join(out, "facts.json")
f = json.load(open(path)) if os.path.exists(path) else {}
def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception as e:
        return "?"
if sys.argv[1] == "start":
    model = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
    f.update({
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": model, "cores": os.cpu_count(),
        "mem_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "os": sh(". /etc/os-release; echo $PRETTY_NAME"),
        "asterisk": sh("%s/tests/stack/ast.sh 'core show version' | head -1" % os.environ["REPO"]),
        "php": sh("php -r 'echo PHP_VERSION;'"),
        "apache": sh("apache2 -v | head -1 | cut -d: -f2").strip(),
        "mariadb": sh("mariadbd --version | cut -d' ' -f2-4"),
        "rustc": sh("rustc -V"), "wrk": sh("wrk -v 2>&1 | head -1 | cut -d' ' -f1-2"),
        "commit": sh("git -C %s rev-parse --short HEAD" % os.environ["REPO"]),
        "dirty": bool(sh("git -C %s status --porcelain --untracked-files=no" % os.environ["REPO"])),
        "extension": {"build": os.environ.get("BENCH_EXT_BUILD") or None,
                      "so": os.environ.get("BENCH_EXT_SO") or None,
                      "debug_so": os.environ.get("EXT_SO"),
                      "apache_start": os.environ.get("BENCH_EXT_APACHE_START", ""),
                      "cli_start": os.environ.get("BENCH_EXT_CLI_START", "")},
        "load_start": os.getloadavg(),
    })
else:
    f["load_end"] = os.getloadavg()
    if f.get("extension", {}).get("build"):
        f["extension"]["apache_end"] = os.environ.get("BENCH_EXT_APACHE_END", "")
        f["extension"]["cli_end"] = os.environ.get("BENCH_EXT_CLI_END", "")
json.dump(f, open(path, "w"), indent=1)
PY
}
export REPO EXT_SO
facts start

# ---------------------------------------------------------------- parts
FAILED=()
part() {   # part NAME COMMAND...: runs one part, timing it; a failure is recorded, not fatal
  local name=$1; shift
  want "$name" || return 0
  local t; t=$(date +%s.%N)
  bsay "---- $name"
  if "$@"; then
    bsay "---- $name done in $(elapsed "$t")"
  else
    FAILED+=("$name"); warn "bench part $name failed (after $(elapsed "$t"))"
  fi
  printf '%s %s\n' "$name" "$(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')" \
    >> "$BENCH_OUT/durations.txt"
}

endpointer() {
  # The core's endpointer alone on a recorded stream (speech in noise), in a release build.
  local t out
  t=$(date +%s.%N)
  cargo test --release -p apicall-speech --no-run >"$BENCH_OUT/endpointer-build.log" 2>&1 \
    || { tail -20 "$BENCH_OUT/endpointer-build.log" >&2; return 1; }
  bsay "release build of apicall-speech's tests: $(elapsed "$t")"
  printf 'release-build %s\n' "$(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')" \
    >> "$BENCH_OUT/durations.txt"
  : > "$BENCH_OUT/endpointer.txt"
  for i in $(seq 1 "$BENCH_REPEATS"); do
    out=$(cargo test --release -p apicall-speech cost_per_frame -- --nocapture 2>&1) || { echo "$out" >&2; return 1; }
    grep -o 'endpointer: .*' <<<"$out" | tee -a "$BENCH_OUT/endpointer.txt" | sed 's/^/[bench] release /'
  done
  # `make up` loads target/debug/libapicall.so: the same test in a debug build tells how much
  # the build changes this cost.
  t=$(date +%s.%N)
  cargo test -p apicall-speech --no-run >"$BENCH_OUT/endpointer-build-debug.log" 2>&1 \
    || { tail -20 "$BENCH_OUT/endpointer-build-debug.log" >&2; return 1; }
  bsay "debug build of apicall-speech's tests: $(elapsed "$t")"
  : > "$BENCH_OUT/endpointer-debug.txt"
  for i in $(seq 1 "$BENCH_REPEATS"); do
    out=$(cargo test -p apicall-speech cost_per_frame -- --nocapture 2>&1) || { echo "$out" >&2; return 1; }
    grep -o 'endpointer: .*' <<<"$out" | tee -a "$BENCH_OUT/endpointer-debug.txt" | sed 's/^/[bench] debug /'
  done
}

part endpointer endpointer
part api "$PY" "$HERE/api.py"
part listen "$PY" "$HERE/calls.py" listen --n "$LISTEN_N"
# The listening floor (Asterisk alone carrying the same calls) at the largest N.
part floor "$PY" "$HERE/calls.py" floor --n "${LISTEN_N##*,}"
part turn "$PY" "$HERE/calls.py" turn
part speech "$PY" "$HERE/speech.py"
if [ -n "$BENCH_EXT_BUILD" ]; then
  # Still the build measured? (A `make up` during the run would have put the debug build back.)
  BENCH_EXT_APACHE_END=$(ap_mapped) BENCH_EXT_CLI_END=$(cli_mapped)
  [ "$BENCH_EXT_APACHE_END" = "$BENCH_EXT_SO" ] && [ "$BENCH_EXT_CLI_END" = "$BENCH_EXT_SO" ] \
    || warn "at the end of the run Apache has '$BENCH_EXT_APACHE_END' and the PHP CLI '$BENCH_EXT_CLI_END' mapped, not $BENCH_EXT_SO"
fi
facts end

restore
trap - EXIT
printf 'total %s\n' "$(awk -v a="$T_ALL" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')" >> "$BENCH_OUT/durations.txt"
if [ -z "${BENCH_NO_REPORT:-}" ]; then
  "$PY" "$HERE/report.py" "$BENCH_OUT" "$REPO/BENCHMARKS.md" || die "report.py could not write BENCHMARKS.md from $BENCH_OUT (rerun: $PY $HERE/report.py $BENCH_OUT BENCHMARKS.md)"
  bsay "BENCHMARKS.md rewritten from $BENCH_OUT"
fi
bsay "make bench took $(elapsed "$T_ALL"); results in $BENCH_OUT"
if [ ${#FAILED[@]} -gt 0 ]; then
  warn "parts that failed: ${FAILED[*]}"; exit 1
fi
