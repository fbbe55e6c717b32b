#!/usr/bin/env bash
# Runs every test suite against the running stack (make test = deps, build, up, then this):
# cargo test, the stack self-test (real calls), the PHP tests, the Python integration tests.
# Every suite runs even when an earlier one failed; the exit status is non-zero if any failed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO"
[ -f "$STACK/env" ] || die "no $STACK/env: run 'make up' first"
set -a; . "$STACK/env"; set +a

declare -a SUMMARY=()
FAILED=0
suite() {   # suite NAME COMMAND...: runs one suite, records its time and result
  local name=$1 t rc; shift
  say "==== $name: $*"
  t=$(now)
  "$@"; rc=$?
  if [ "$rc" = 0 ]; then SUMMARY+=("ok     $name ($(elapsed "$t"))")
  else SUMMARY+=("FAILED $name ($(elapsed "$t"), exit $rc)"); FAILED=1; fi
}

suite rust env APICALL_STACK_TESTS=1 cargo test --workspace   # tests that need the stack must find it
suite fuzz env FUZZ_SECONDS=5 bash tests/stack/fuzz.sh
suite stack bash tests/stack/selftest.sh
suite speechd "$STACK/speech-venv/bin/python" -m pytest -v tests/speechd
suite php php tests/php/run.php
suite integration "$STACK/venv/bin/pytest" -v tests/integration
suite browser bash tests/browser/run.sh; suite dist bash tests/dist/run.sh

say "==== summary"
npass=0; nfail=0
for line in "${SUMMARY[@]}"; do
  say "$line"
  case "$line" in ok*) npass=$((npass + 1)) ;; *) nfail=$((nfail + 1)) ;; esac
done
echo "suites: $npass passed, $nfail failed"
exit $FAILED
