#!/usr/bin/env bash
# `make bench` (after `make up`): measures the API, the cost of listening calls, turn timing,
# local speech and memory on the running local stack, each against a floor or a baseline taken
# in the same run, then rewrites BENCHMARKS.md. Results (JSON) go to .stack/bench/results/<time>/.
#
# Environment: BENCH_REPEATS (3), BENCH_API_SECONDS (2), BENCH_LISTEN_N (1,10,50,100),
# BENCH_PARTS (endpointer,api,listen,floor,turn,speech: run only these), BENCH_NO_REPORT=1 (leave
# BENCHMARKS.md alone).
#
# The module's settings it changes for the run (max_concurrent_calls) are saved first and put
# back on exit, also after a failure (and at the start of the next run if this one was killed).
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
restore() {
  "$PY" -c "import sys; sys.path.insert(0, '$HERE'); import benchlib; benchlib.restore_settings()" \
    && bsay "module settings restored" || warn "could not restore the module settings: see $STACK/bench/settings-saved.json"
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
sed -e "s|@REPO@|$REPO|" "$HERE/floor/bootstrap.php" > "$STACK/bench/www/bootstrap.php"
chown -R "$AST_USER:$AST_USER" "$STACK/bench/www"
ln -sfn ../bench/www "$STACK/www/bench"

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
        "extension": "target/debug/libapicall.so (debug build: what `make up` loads)",
        "load_start": os.getloadavg(),
    })
else:
    f["load_end"] = os.getloadavg()
json.dump(f, open(path, "w"), indent=1)
PY
}
export REPO
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
  # The stack loads target/debug/libapicall.so: the same test in a debug build tells how much
  # of the listening cost above is the build.
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
facts end

restore
trap - EXIT
printf 'total %s\n' "$(awk -v a="$T_ALL" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')" >> "$BENCH_OUT/durations.txt"
if [ -z "${BENCH_NO_REPORT:-}" ]; then
  "$PY" "$HERE/report.py" "$BENCH_OUT" "$REPO/BENCHMARKS.md" && bsay "BENCHMARKS.md rewritten from $BENCH_OUT"
fi
bsay "make bench took $(elapsed "$T_ALL"); results in $BENCH_OUT"
if [ ${#FAILED[@]} -gt 0 ]; then
  warn "parts that failed: ${FAILED[*]}"; exit 1
fi
