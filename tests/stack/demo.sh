#!/usr/bin/env bash
# make demo (after make up): a whole aibot conversation with test phone 2006, driven by a demo
# webhook, printed live (tests/stack/demo.py).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ -f "$STACK/env" ] || die "no $STACK/env: run 'make up' first"
export STACK
exec "$STACK/venv/bin/python" "$REPO/tests/stack/demo.py"
