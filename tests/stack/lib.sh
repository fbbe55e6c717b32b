# Shared helpers for the apicall local stack scripts (sourced, not run).
# Paths, ports and users are fixed by the project contract.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STACK="$REPO/.stack"
SID="$STACK/sid"
AST_BIN="$STACK/bin/asterisk"
AST_CONF="$STACK/asterisk/etc/asterisk.conf"
AST_ETC="$STACK/asterisk/etc"
AST_LIB="$STACK/asterisk/lib"
AST_SPOOL="$STACK/asterisk/spool"
AST_AGI="$STACK/asterisk/agi-bin"
AST_LOG="$STACK/asterisk/log"
AST_RUN="$STACK/asterisk/run"
AST_USER=asterisk

DB_PORT=33061
DB_SOCK="$STACK/run/mysqld.sock"
DB_USER=freepbxuser
DB_PASS=apicall-stack-pw
DB_NAME=asterisk
CDR_DB=asteriskcdrdb

WEB_PORT=8580
APICALL_URL="http://127.0.0.1:$WEB_PORT/apicall"
AMI_PORT=15038
AMI_USER=apicall
AMI_SECRET=apicall-ami

EXT_SO="$REPO/target/debug/libapicall.so"
FREEPBX_CONF="$STACK/freepbx/freepbx.conf"
ODBC_DIR="$STACK/odbc"
PHP_CLI_CONF_D="$STACK/php/cli-conf.d"

say()  { printf '[stack] %s\n' "$*"; }
warn() { printf '[stack] WARNING: %s\n' "$*" >&2; }
die()  { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

# Seconds since the epoch with decimals, for step timings.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# The environment Asterisk, AGI scripts and PHP CLI tools run with.
stack_env() {
  export PHP_INI_SCAN_DIR=":$PHP_CLI_CONF_D"
  export FREEPBX_CONF
  export ODBCSYSINI="$ODBC_DIR"
  export ODBCINI="$ODBC_DIR/odbc.ini"
}

# Run the Asterisk CLI client against the running instance.
ast_rx() { "$AST_BIN" -C "$AST_CONF" -rx "$1"; }

# mysql client as the database superuser (unix_socket auth as root).
db_root() { mysql --no-defaults -uroot --socket="$DB_SOCK" "$@"; }

# without_inherited_fds CMD...: runs CMD with every descriptor above 2 closed. A daemon keeps
# what it inherits for as long as it runs: started under `flock /tmp/LOCK make up`, Apache held
# that lock until its next restart and every other stack run waited on it.
without_inherited_fds() {
  ( close_inherited_fds; exec "$@" )
}

# close_inherited_fds: closes every descriptor above 2 of the current (sub)shell.
close_inherited_fds() {
  local fd
  for fd in /proc/$BASHPID/fd/*; do
    fd=${fd##*/}
    [ "$fd" -gt 2 ] && eval "exec $fd>&-"
  done
  return 0
}

# stack_lock: serializes up.sh/down.sh of one checkout (several people may run `make up` in
# the same checkout at once). Holds fd 9 until the script exits; daemons are started with
# 9>&- so they do not keep the lock.
stack_lock() {
  mkdir -p "$STACK"
  exec 9>"$STACK/.lock"
  if ! flock -n 9; then
    say "another up/down of this stack is running: waiting for it"
    flock -w 300 9 || die "could not get $STACK/.lock within 300 s"
  fi
}
