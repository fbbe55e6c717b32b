#!/usr/bin/env bash
# The dist suite of `make test`: builds the release tarball (tests/dist/make-dist.sh:
# reuses target/release/libapicall.so when it is up to date) and tests it on the running
# stack (tests/dist/test_dist.py: layout, the stripped extension, install, reload, a call,
# status, uninstall). Needs `make up` and root.
set -uo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STACK="$REPO/.stack"
[ -f "$STACK/env" ] || { echo "[dist] no $STACK/env: run 'make up' first"; exit 1; }
set -a; . "$STACK/env"; set +a
bash "$REPO/tests/dist/make-dist.sh" || exit 1
exec "$STACK/venv/bin/pytest" -v "$REPO/tests/dist"
