#!/usr/bin/env bash
# Runs one Asterisk CLI command against the stack's running Asterisk, e.g.
#   tests/stack/ast.sh 'core show channels'
# (the patched sid binary with the stack's asterisk.conf; no argument = interactive -r).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ -x "$AST_BIN" ] || die "no $AST_BIN: run 'make deps' first"
if [ $# -eq 0 ]; then exec "$AST_BIN" -C "$AST_CONF" -r; fi
exec "$AST_BIN" -C "$AST_CONF" -rx "$*"
