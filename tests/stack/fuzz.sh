#!/usr/bin/env bash
# Fuzzes the request parsers and the call-file renderer (rust/fuzz, cargo fuzz + libFuzzer).
# FUZZ_SECONDS per target (default 5: the CI run; `make fuzz` uses 300). Installs cargo-fuzz
# from crates.io when missing. The toolchain is stable, so RUSTC_BOOTSTRAP=1 lets cargo fuzz
# pass the sanitizer flags it needs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO"
secs=${FUZZ_SECONDS:-5}
if ! cargo fuzz --version >/dev/null 2>&1; then
  t=$(now); say "fuzz: installing cargo-fuzz (once)"
  cargo install cargo-fuzz --locked --quiet
  say "fuzz: cargo-fuzz installed in $(elapsed "$t")"
fi
export RUSTC_BOOTSTRAP=1
t=$(now)
cargo fuzz build --fuzz-dir rust/fuzz -O
say "fuzz: targets built in $(elapsed "$t")"
for target in request_parser call_file; do
  t=$(now)
  mkdir -p "rust/fuzz/corpus/$target"
  # cargo fuzz exits non-zero on a crash; pipefail carries that out of the pipeline (and set -e
  # stops the script). Only grep's "no line matched" is forgiven, inside the braces: a `|| true`
  # after the whole pipeline would forgive the crash too.
  cargo fuzz run --fuzz-dir rust/fuzz -O "$target" -- -max_total_time="$secs" -print_final_stats=1 2>&1 \
    | { grep -E '^(Done|stat::number_of_executed_units|==|SUMMARY|thread)' || true; }
  say "fuzz: $target ran ${secs}s clean ($(elapsed "$t"))"
done
