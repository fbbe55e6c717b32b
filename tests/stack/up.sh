#!/usr/bin/env bash
# Starts the local stack (MariaDB, Apache + mod_php with the apicall extension, Asterisk 22)
# and prints APICALL_URL / APICALL_TOKEN, also written to .stack/env. Idempotent: when
# everything is up it only checks, restarting what is down (and Apache when the extension
# changed). Run as root, after `make deps` and `make build` (the Makefile does both).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || die "up.sh must run as root"
[ -x "$AST_BIN" ] || die "no $AST_BIN: run 'make deps' first"
id "$AST_USER" >/dev/null 2>&1 || die "no user $AST_USER: run 'make deps' first"
stack_lock
T_ALL=$(now)
TPL="$REPO/tests/stack"

# render TEMPLATE DEST: copies a template with @STACK@/@SID@/@REPO@ filled in; returns 0
# when DEST changed (so callers can reload what uses it), 1 when it was already current.
render() {
  local src=$1 dst=$2 tmp
  tmp=$(mktemp "$dst.XXXXXX")
  sed -e "s|@STACK@|$STACK|g" -e "s|@SID@|$SID|g" -e "s|@REPO@|$REPO|g" "$src" > "$tmp"
  write_if_changed "$tmp" "$dst"
}
# write_if_changed TMPFILE DEST: moves TMPFILE over DEST only if the content differs.
write_if_changed() {
  local tmp=$1 dst=$2
  if [ -f "$dst" ] && cmp -s "$tmp" "$dst"; then rm -f "$tmp"; return 1; fi
  chmod 644 "$tmp"; mv "$tmp" "$dst"; return 0
}
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1" 2>/dev/null)" 2>/dev/null; }
# port_free PORT WHAT: dies if something else already listens on 127.0.0.1:PORT.
port_free() {
  local who
  who=$(ss -Htlnp "sport = :$1" 2>/dev/null | head -1)
  [ -z "$who" ] || die "port $1 ($2) is taken by another process: $who (another stack up? 'make down' there)"
}

# ---------------------------------------------------------------- folders
mkdir -p "$STACK"/{run,log,freepbx,www/admin/modules,phones/phrases,php/apache2,apache/{run,logs}} \
         "$PHP_CLI_CONF_D" "$ODBC_DIR" \
         "$AST_ETC" "$AST_LIB"/sounds/apicall/tts "$AST_SPOOL"/{outgoing,tmp,outgoing_done,apicall/answers} \
         "$AST_AGI" "$AST_LOG" "$AST_RUN" "$STACK/asterisk/cache"
chown mysql:mysql "$STACK/run"
chown -R "$AST_USER:$AST_USER" "$STACK/asterisk" "$STACK/phones" "$STACK/www"
bash "$REPO/tests/stack/phrases.sh"
# Everything the asterisk user runs must be reachable through the repository path.
# (A checkout under a private folder, e.g. a mode-700 temp dir, gets o+x on its parents.)
if ! runuser -u "$AST_USER" -- test -r "$TPL/up.sh"; then
  d=$REPO
  while [ "$d" != / ]; do
    if [ "$(stat -c %A "$d" | cut -c10)" != x ] && [ "$(stat -c %A "$d" | cut -c10)" != t ]; then
      chmod o+x "$d"; say "made $d searchable (o+x) for user $AST_USER"
    fi
    d=$(dirname "$d")
  done
  runuser -u "$AST_USER" -- test -r "$TPL/up.sh" \
    || die "user $AST_USER cannot read $REPO: Apache and Asterisk would not reach the module"
fi
ln -sfn "$REPO" "$STACK/www/admin/modules/apicall"

# Data folders Asterisk expects under astdatadir; the sid root's own links are absolute.
ln -sfn "$SID/usr/share/asterisk/sounds/en_US_f_Allison" "$AST_LIB/sounds/en"
for d in documentation firmware images keys phoneprov rest-api static-http; do
  if [ -e "$SID/usr/share/asterisk/$d" ]; then ln -sfn "$SID/usr/share/asterisk/$d" "$AST_LIB/$d"; fi
done

# ---------------------------------------------------------------- MariaDB
t=$(now)
DB_PID="$STACK/run/mysqld.pid"
db_ping() { mysqladmin --no-defaults --socket="$DB_SOCK" -uroot --connect-timeout=2 ping >/dev/null 2>&1; }
if pid_alive "$DB_PID" && db_ping; then
  say "mariadb: running (pid $(cat "$DB_PID"), 127.0.0.1:$DB_PORT, socket $DB_SOCK)"
else
  if [ ! -d "$STACK/mysql/mysql" ]; then
    say "mariadb: initializing datadir $STACK/mysql"
    rm -rf "$STACK/mysql"
    mariadb-install-db --no-defaults --user=mysql --datadir="$STACK/mysql" \
      --auth-root-authentication-method=socket --skip-test-db --skip-name-resolve --force \
      > "$STACK/log/mariadb-install-db.log" 2>&1 \
      || { cat "$STACK/log/mariadb-install-db.log" >&2; die "mariadb-install-db failed"; }
  fi
  rm -f "$DB_SOCK" "$DB_PID"
  port_free "$DB_PORT" mariadb
  # The background subshell closes what it inherited and becomes mariadbd (see Asterisk's).
  ( close_inherited_fds; exec setsid /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$STACK/mysql" \
    --socket="$DB_SOCK" --port="$DB_PORT" --bind-address=127.0.0.1 --pid-file="$DB_PID" \
    --log-error="$STACK/log/mariadb.err" --skip-name-resolve \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --innodb-buffer-pool-size=64M --innodb-log-file-size=16M --max-connections=200 \
    --skip-log-bin ) </dev/null >/dev/null 2>&1 9>&- &
  for _ in $(seq 1 120); do db_ping && break; sleep 0.25; done
  db_ping || { tail -20 "$STACK/log/mariadb.err" >&2; die "mariadb did not start"; }
  say "mariadb: started in $(elapsed "$t") (pid $(cat "$DB_PID"), 127.0.0.1:$DB_PORT)"
fi
# Databases, user and FreePBX 17's CDR table (idempotent).
db_root <<SQL
CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS \`$CDR_DB\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
ALTER USER '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
ALTER USER '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'localhost', '$DB_USER'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`$CDR_DB\`.* TO '$DB_USER'@'localhost', '$DB_USER'@'127.0.0.1';
SOURCE $TPL/sql/cdr.sql;
SQL
say "mariadb: databases $DB_NAME + $CDR_DB (cdr table), user $DB_USER ready"

# ---------------------------------------------------------------- PHP + FreePBX config
t=$(now)
SO_OK=0
if [ -f "$EXT_SO" ]; then
  # (grep without -q: with pipefail, an early exit of grep would fail the pipe)
  if nm -D --defined-only "$EXT_SO" 2>/dev/null | grep ' get_module$' >/dev/null; then
    SO_OK=1
  else
    warn "################################################################"
    warn "$EXT_SO has no get_module symbol: not a PHP extension yet; NOT loading it"
    warn "################################################################"
  fi
else
  warn "################################################################"
  warn "$EXT_SO is missing (cargo build -p apicall-php): PHP runs WITHOUT the apicall extension"
  warn "################################################################"
fi
ext_line() {
  if [ $SO_OK = 1 ]; then echo "extension=$EXT_SO"
  else echo "; extension=$EXT_SO  (not loaded: missing or not a PHP extension when up.sh ran)"; fi
}
tmp=$(mktemp); { echo "; Generated by tests/stack/up.sh: the apicall extension for the PHP CLI"; ext_line; } > "$tmp"
write_if_changed "$tmp" "$PHP_CLI_CONF_D/apicall.ini" || true
tmp=$(mktemp)
{ cat /usr/lib/php/8.2/php.ini-production
  echo; echo "; ---- tests/stack additions ----"
  sed -e "s|@STACK@|$STACK|g" "$TPL/php/php-stack.ini"; ext_line; } > "$tmp"
write_if_changed "$tmp" "$STACK/php/apache2/php.ini" || true

tmp=$(mktemp)
cat > "$tmp" <<PHP
<?php
// Generated by tests/stack/up.sh: the stack's stand-in for /etc/freepbx.conf.
\$amp_conf['AMPDBUSER'] = '$DB_USER';
\$amp_conf['AMPDBPASS'] = '$DB_PASS';
\$amp_conf['AMPDBHOST'] = '127.0.0.1';
\$amp_conf['AMPDBPORT'] = '$DB_PORT';
\$amp_conf['AMPDBNAME'] = '$DB_NAME';
\$amp_conf['AMPDBENGINE'] = 'mysql';
\$amp_conf['AMPDBSOCK'] = '$DB_SOCK';
\$amp_conf['CDRDBNAME'] = '$CDR_DB';
\$amp_conf['AMPWEBROOT'] = '$STACK/www';
\$amp_conf['ASTETCDIR'] = '$AST_ETC';
\$amp_conf['ASTVARLIBDIR'] = '$AST_LIB';
\$amp_conf['ASTSPOOLDIR'] = '$AST_SPOOL';
\$amp_conf['ASTAGIDIR'] = '$AST_AGI';
\$amp_conf['ASTLOGDIR'] = '$AST_LOG';
\$amp_conf['AMPMGRUSER'] = '$AMI_USER';
\$amp_conf['AMPMGRPASS'] = '$AMI_SECRET';
\$amp_conf['ASTMANAGERHOST'] = '127.0.0.1';
\$amp_conf['ASTMANAGERPORT'] = '$AMI_PORT';
require_once '$REPO/tests/freepbx/bootstrap.php';
PHP
write_if_changed "$tmp" "$FREEPBX_CONF" || true
chown "$AST_USER:$AST_USER" "$FREEPBX_CONF"; chmod 660 "$FREEPBX_CONF"
render "$TPL/odbc/odbcinst.ini" "$ODBC_DIR/odbcinst.ini" || true
render "$TPL/odbc/odbc.ini" "$ODBC_DIR/odbc.ini" || true
say "config: freepbx.conf, php ini (extension $( [ $SO_OK = 1 ] && echo loaded || echo SKIPPED )), odbc ini in $(elapsed "$t")"

# ---------------------------------------------------------------- module install + reload
stack_env
run_tool() {   # run_tool NAME: php tests/freepbx/tools/NAME as user asterisk, if present
  local tool="$REPO/tests/freepbx/tools/$1" t1
  if [ ! -f "$tool" ]; then warn "tests/freepbx/tools/$1 not there yet: skipped"; return 1; fi
  t1=$(now)
  if ! runuser -u "$AST_USER" -- env PHP_INI_SCAN_DIR="$PHP_INI_SCAN_DIR" FREEPBX_CONF="$FREEPBX_CONF" \
       php "$tool" > "$STACK/log/$1.log" 2>&1; then
    cat "$STACK/log/$1.log" >&2; die "php tests/freepbx/tools/$1 failed (log: $STACK/log/$1.log)"
  fi
  say "module: $1 done in $(elapsed "$t1") (log: $STACK/log/$1.log)"
}
run_tool install-module.php || true
# reload.php writes extensions_additional.conf; an empty one keeps the #include valid.
[ -f "$AST_ETC/extensions_additional.conf" ] || \
  { echo "; empty until tests/freepbx/tools/reload.php runs" > "$AST_ETC/extensions_additional.conf"; }
ADD_SUM_BEFORE=$(md5sum < "$AST_ETC/extensions_additional.conf")
run_tool reload.php || true
chown -R "$AST_USER:$AST_USER" "$AST_ETC" "$AST_AGI" "$AST_LIB/sounds/apicall"
ADD_CHANGED=0
[ "$ADD_SUM_BEFORE" = "$(md5sum < "$AST_ETC/extensions_additional.conf")" ] || ADD_CHANGED=1

# ---------------------------------------------------------------- Apache
t=$(now)
AP_CONF="$STACK/apache/httpd.conf"
AP_PID="$STACK/apache/run/httpd.pid"
AP_STAMP="$STACK/apache/run/loaded.stamp"   # what the running Apache loaded
ap_want() {
  { md5sum < "$AP_CONF"; md5sum < "$STACK/php/apache2/php.ini"
    if [ $SO_OK = 1 ]; then stat -c '%i %s %Y' "$EXT_SO"; md5sum < "$EXT_SO"; fi; } | md5sum
}
render "$TPL/apache/httpd.conf" "$AP_CONF" || true
apache2 -t -f "$AP_CONF" >/dev/null 2>"$STACK/log/apache-configtest.log" \
  || { cat "$STACK/log/apache-configtest.log" >&2; die "apache config test failed"; }
# PHP's error_log (php-stack.ini) is written by the workers, which run as $AST_USER: a file
# they cannot open sends every log line through a failed open() to Apache's error.log.
install -d "$STACK/apache/logs"
touch "$STACK/apache/logs/php_errors.log"
chown "$AST_USER:$AST_USER" "$STACK/apache/logs/php_errors.log"
ap_http_ok() { curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$WEB_PORT/" ; }
ap_start() {
  rm -f "$AP_PID"
  port_free "$WEB_PORT" apache
  # Without PHP_INI_SCAN_DIR: the CLI conf.d would load the extension a second time.
  without_inherited_fds env -u PHP_INI_SCAN_DIR apache2 -f "$AP_CONF" -k start
  for _ in $(seq 1 80); do pid_alive "$AP_PID" && ap_http_ok && break; sleep 0.25; done
  pid_alive "$AP_PID" || { tail -20 "$STACK/apache/logs/error.log" >&2; die "apache did not start"; }
  ap_want > "$AP_STAMP"
}
# A pid file left by an earlier machine session may name an unrelated process now.
if pid_alive "$AP_PID" && [ "$(cat "/proc/$(cat "$AP_PID")/comm" 2>/dev/null)" != apache2 ]; then
  rm -f "$AP_PID"
fi
if pid_alive "$AP_PID" && ! ap_http_ok; then
  warn "apache (pid $(cat "$AP_PID")) does not answer: restarting it"
  kill "$(cat "$AP_PID")" 2>/dev/null || true; sleep 1; rm -f "$AP_PID"
fi
if pid_alive "$AP_PID"; then
  if [ "$(ap_want)" != "$(cat "$AP_STAMP" 2>/dev/null)" ]; then
    # A new extension build (or config): stop gracefully and start afresh, so the
    # new .so is loaded for sure (a Rust cdylib need not unload on a graceful restart).
    say "apache: extension or config changed, restarting"
    old_pid=$(cat "$AP_PID")
    apache2 -f "$AP_CONF" -k graceful-stop || true
    # The parent goes first; its children finish their requests (GracefulShutdownTimeout
    # 10 s) and keep the listening socket until then.
    for _ in $(seq 1 60); do
      kill -0 "$old_pid" 2>/dev/null || [ -n "$(ss -Htln "sport = :$WEB_PORT")" ] || break
      sleep 0.25
    done
    if kill -0 "$old_pid" 2>/dev/null; then kill "$old_pid"; sleep 1; fi
    ap_start
    say "apache: restarted in $(elapsed "$t") (127.0.0.1:$WEB_PORT)"
  else
    say "apache: running (pid $(cat "$AP_PID"), 127.0.0.1:$WEB_PORT)"
  fi
else
  ap_start
  say "apache: started in $(elapsed "$t") (pid $(cat "$AP_PID"), 127.0.0.1:$WEB_PORT, docroot $STACK/www)"
fi

# ---------------------------------------------------------------- Asterisk
t=$(now)
AST_PID="$AST_RUN/asterisk.pid"
AST_CHANGED=0
for f in asterisk.conf logger.conf manager.conf http.conf res_odbc.conf cdr.conf cel.conf \
         cdr_adaptive_odbc.conf extensions.conf extensions_stack.conf extensions_phones.conf; do
  if render "$TPL/asterisk/$f" "$AST_ETC/$f"; then AST_CHANGED=1; fi
done
# Stock configs some modules need to load (tones for Ringing/Busy, AMD, DSP thresholds...).
for f in indications.conf amd.conf dsp.conf ccss.conf features.conf udptl.conf rtp.conf \
         stasis.conf sorcery.conf acl.conf codecs.conf say.conf cli.conf cli_aliases.conf \
         res_parking.conf queues.conf agents.conf confbridge.conf followme.conf geolocation.conf \
         res_http_media_cache.conf res_config_sqlite3.conf ari.conf websocket_client.conf \
         pjproject.conf aeap.conf; do
  if [ -f "$SID/etc/asterisk/$f" ]; then cp -u "$SID/etc/asterisk/$f" "$AST_ETC/$f"; fi
done
# modules.conf: the template plus a noload line for every module that would talk to a network.
tmp=$(mktemp)
{ sed -e "s|@STACK@|$STACK|g" "$TPL/asterisk/modules.conf"
  for m in "$SID"/usr/lib/x86_64-linux-gnu/asterisk/modules/*.so; do
    m=$(basename "$m")
    case "$m" in
      chan_pjsip.so|res_pjsip*.so|func_pjsip*.so|chan_iax2.so|chan_unistim.so|chan_motif.so|\
      chan_websocket.so|res_xmpp.so|res_hep*.so|pbx_dundi.so|res_stun_monitor.so|res_phoneprov.so|\
      res_snmp.so|res_statsd.so|res_prometheus.so|res_calendar*.so|cdr_radius.so|cel_radius.so|\
      cdr_pgsql.so|cel_pgsql.so|cdr_tds.so|cel_tds.so|res_config_ldap.so|res_config_pgsql.so|\
      res_pgsql.so|res_stir_shaken.so|pbx_lua.so|pbx_ael.so|res_ael_share.so|app_jack.so|\
      cdr_sqlite3_custom.so|cel_sqlite3_custom.so|cdr_custom.so|cel_custom.so|cdr_odbc.so|\
      cdr_manager.so|cel_manager.so|cel_odbc.so|app_festival.so|app_alarmreceiver.so|cdr_csv.so|\
      func_odbc.so)
        echo "noload => $m" ;;
    esac
  done; } > "$tmp"
if write_if_changed "$tmp" "$AST_ETC/modules.conf"; then AST_CHANGED=1; fi
chown -R "$AST_USER:$AST_USER" "$AST_ETC"

ast_up() { pid_alive "$AST_PID" && ast_rx 'core show version' >/dev/null 2>&1; }
if ast_up; then
  if [ $AST_CHANGED = 1 ]; then
    ast_rx 'core reload' >/dev/null; say "asterisk: configuration changed, reloaded"
  elif [ $ADD_CHANGED = 1 ]; then
    ast_rx 'dialplan reload' >/dev/null; say "asterisk: extensions_additional.conf changed, dialplan reloaded"
  fi
  say "asterisk: running (pid $(cat "$AST_PID"), AMI 127.0.0.1:$AMI_PORT)"
else
  if pid_alive "$AST_PID" && [ "$(cat "/proc/$(cat "$AST_PID")/comm" 2>/dev/null)" = asterisk ]; then
    kill "$(cat "$AST_PID")" || true; sleep 1
  fi
  rm -f "$AST_PID" "$AST_RUN/asterisk.ctl"
  port_free "$AMI_PORT" "asterisk AMI"
  # Started as root, Asterisk drops to runuser/rungroup (asterisk.conf) itself. The env
  # is what AGI scripts inherit: PHP_INI_SCAN_DIR (the extension), FREEPBX_CONF, ODBC.
  # The subshell closes what it inherited (the lock on fd 9, a caller's flock descriptor, its
  # stdout) and becomes Asterisk: nothing stays behind holding them, or a caller reading
  # up.sh's output, or waiting on its lock, would wait for Asterisk to exit.
  ( close_inherited_fds; cd "$AST_RUN" && exec setsid env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
      HOME=/var/lib/asterisk LANG=C.UTF-8 \
      PHP_INI_SCAN_DIR="$PHP_INI_SCAN_DIR" FREEPBX_CONF="$FREEPBX_CONF" \
      ODBCSYSINI="$ODBCSYSINI" ODBCINI="$ODBCINI" \
      "$AST_BIN" -C "$AST_CONF" -f -n -U "$AST_USER" -G "$AST_USER" \
    ) </dev/null >"$AST_LOG/console.log" 2>&1 9>&- &
  for _ in $(seq 1 120); do [ -S "$AST_RUN/asterisk.ctl" ] && break; sleep 0.25; done
  [ -S "$AST_RUN/asterisk.ctl" ] || { tail -30 "$AST_LOG/console.log" >&2; die "asterisk did not start"; }
  timeout 60 "$AST_BIN" -C "$AST_CONF" -rx 'core waitfullybooted' >/dev/null \
    || { tail -30 "$AST_LOG/full" >&2; die "asterisk did not finish booting"; }
  say "asterisk: fully booted in $(elapsed "$t") (pid $(cat "$AST_PID"), AMI 127.0.0.1:$AMI_PORT)"
fi
# CDRs must reach MariaDB through res_odbc + cdr_adaptive_odbc.
odbc_ok=0
for _ in $(seq 1 20); do
  out=$(ast_rx 'odbc show asteriskcdrdb' 2>&1 || true)
  if [[ $out == *"Number of active connections: "[1-9]* ]]; then odbc_ok=1; break; fi
  sleep 0.5
done
[ $odbc_ok = 1 ] || { ast_rx 'odbc show' >&2; die "res_odbc has no connection to $CDR_DB"; }
out=$(ast_rx 'cdr show status' 2>&1 || true)
[[ $out == *"Adaptive ODBC"* ]] \
  || { echo "$out" >&2; die "cdr_adaptive_odbc is not a registered CDR backend"; }
say "asterisk: res_odbc connected to $CDR_DB, cdr_adaptive_odbc registered"
# Nothing of Asterisk's may listen anywhere but AMI on 127.0.0.1.
extra=$(ss -Htlnup 2>/dev/null | grep "pid=$(cat "$AST_PID")," | awk '{print $1" "$5}' \
        | grep -v "^tcp 127.0.0.1:$AMI_PORT$" || true)
[ -z "$extra" ] || warn "asterisk listens on more than AMI: $extra"

# ---------------------------------------------------------------- token + env
TOKEN=$(db_root -N -B -e "SELECT val FROM \`$DB_NAME\`.kvstore_FreePBX_modules_Apicall WHERE \`key\`='token' AND id='noid'" 2>/dev/null || true)
[ -n "$TOKEN" ] || warn "no token in $DB_NAME.kvstore_FreePBX_modules_Apicall yet (module not installed?)"
tmp=$(mktemp)
cat > "$tmp" <<ENV
# Generated by tests/stack/up.sh (shell syntax: set -a; . .stack/env; set +a)
APICALL_URL=$APICALL_URL
APICALL_TOKEN=$TOKEN
STACK=$STACK
REPO=$REPO
FREEPBX_CONF=$FREEPBX_CONF
PHP_INI_SCAN_DIR=$PHP_INI_SCAN_DIR
ODBCSYSINI=$ODBCSYSINI
ODBCINI=$ODBCINI
APICALL_EXT_LOADED=$SO_OK
DB_HOST=127.0.0.1
DB_PORT=$DB_PORT
DB_SOCKET=$DB_SOCK
DB_USER=$DB_USER
DB_PASS=$DB_PASS
DB_NAME=$DB_NAME
CDR_DB=$CDR_DB
AMI_HOST=127.0.0.1
AMI_PORT=$AMI_PORT
AMI_USER=$AMI_USER
AMI_SECRET=$AMI_SECRET
ASTETCDIR=$AST_ETC
ASTVARLIBDIR=$AST_LIB
ASTSPOOLDIR=$AST_SPOOL
ASTAGIDIR=$AST_AGI
ASTLOGDIR=$AST_LOG
AST_FULL_LOG=$AST_LOG/full
AST_CLI=$REPO/tests/stack/ast.sh
PHONES_DIR=$STACK/phones
AMPWEBROOT=$STACK/www
ENV
write_if_changed "$tmp" "$STACK/env" || true
chmod 644 "$STACK/env"
without_inherited_fds bash "$TPL/speechd.sh" start || warn "speechd (local STT) did not start: see $STACK/speechd/speechd.log"
say "stack up in $(elapsed "$T_ALL"); env written to $STACK/env"
echo "APICALL_URL=$APICALL_URL"
echo "APICALL_TOKEN=$TOKEN"
