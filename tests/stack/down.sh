#!/usr/bin/env bash
# Stops the local stack (Asterisk, Apache, MariaDB), leaving .stack/ (data, logs) in place.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || die "down.sh must run as root"
stack_lock

# ours PIDFILE COMM: the pid file names a live process with that command name (a stale pid
# file from an earlier machine session may name an unrelated process: never touch that).
ours() { [ -f "$1" ] && [ "$(cat "/proc/$(cat "$1")/comm" 2>/dev/null)" = "$2" ]; }

# stop_pid NAME PIDFILE COMM [SECONDS]: TERM, wait, then KILL the one process in PIDFILE.
stop_pid() {
  local name=$1 pidf=$2 comm=$3 secs=${4:-20} pid
  if ! ours "$pidf" "$comm"; then
    say "$name: not running"; rm -f "$pidf"; return 0
  fi
  pid=$(cat "$pidf")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 $((secs * 4))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$pid" 2>/dev/null; then
    warn "$name (pid $pid) still running after ${secs}s: killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidf"
  say "$name: stopped (pid $pid)"
}

t=$(now)
# Asterisk: ask it to stop cleanly (hangs up calls), then make sure.
AST_PIDF="$STACK/asterisk/run/asterisk.pid"
if ours "$AST_PIDF" asterisk && [ -S "$STACK/asterisk/run/asterisk.ctl" ]; then
  pid=$(cat "$AST_PIDF")
  timeout 15 "$AST_BIN" -C "$AST_CONF" -rx 'core stop now' >/dev/null 2>&1 || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -0 "$pid" 2>/dev/null || { say "asterisk: stopped (pid $pid)"; rm -f "$AST_PIDF"; }
fi
[ ! -f "$AST_PIDF" ] || stop_pid asterisk "$AST_PIDF" asterisk 15
AP_PIDF="$STACK/apache/run/httpd.pid"
if ours "$AP_PIDF" apache2; then
  pid=$(cat "$AP_PIDF")
  apache2 -f "$STACK/apache/httpd.conf" -k stop 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -0 "$pid" 2>/dev/null || { say "apache: stopped (pid $pid)"; rm -f "$AP_PIDF"; }
fi
[ ! -f "$AP_PIDF" ] || stop_pid apache "$AP_PIDF" apache2 15
stop_pid mariadb "$STACK/run/mysqld.pid" mariadbd 60
bash "$(dirname "$0")/speechd.sh" stop
say "stack down in $(elapsed "$t")"
