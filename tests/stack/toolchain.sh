#!/usr/bin/env bash
# The toolchains a fresh Debian 12 machine may lack, checked before anything is installed or
# built, so a missing one stops the run at once with what to install instead of a compile or
# npm error minutes later. Debian 12's own packages are too old for both: rustc 1.63 (the
# workspace needs rust-version, 1.85 today) and nodejs 18 (playwright-core 1.62 and later
# need Node >= 20).
#
#   toolchain.sh rust        exit 0 when rustc and cargo on PATH (after ~/.cargo/bin, as the
#                            Makefile sets it) are >= Cargo.toml's rust-version; else says
#                            what is needed and exits 1
#   toolchain.sh playwright  prints the playwright-core version for the node on PATH: the
#                            pinned one on Node >= 20, the last one that supports Node 18 on
#                            18/19; else says what is needed and exits 1
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# rustup's place, first, as the Makefile has it (install-deps.sh may be run by hand).
export PATH="$HOME/.cargo/bin:$PATH"

# The browser test's playwright-core: pinned (engines: node >=20), and the newest release whose
# package.json still says node >=18 (`npm view playwright-core@1.61.1 engines`; 1.62.0 says
# >=20), for a machine that has only Debian's nodejs 18.
PLAYWRIGHT_PINNED=1.65.1
PLAYWRIGHT_NODE18=1.61.1

err() { printf '[toolchain] ERROR: %s\n' "$*" >&2; exit 1; }

# version_ge A B: A >= B for dotted numeric versions.
version_ge() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -1)" = "$2" ]; }

rust() {
  local need have tool line
  need=$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' "$REPO/Cargo.toml" | head -1)
  [ -n "$need" ] || err "no rust-version in $REPO/Cargo.toml"
  local how="install Rust >= $need with rustup (https://rustup.rs: curl --proto '=https' -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal), which puts rustc and cargo in ~/.cargo/bin (the Makefile puts that first on PATH); Debian 12's rustc package is 1.63, too old"
  for tool in rustc cargo; do
    command -v "$tool" >/dev/null || err "$tool not found: $how"
    line=$("$tool" --version 2>/dev/null || true)
    have=$(sed -n 's/^[a-z]* \([0-9][0-9.]*\).*/\1/p' <<<"$line")
    [ -n "$have" ] || err "cannot tell the version of $(command -v "$tool") ('$line'): $how"
    version_ge "$have" "$need" || err "$(command -v "$tool") is $have; apicall needs $tool >= $need (rust-version in Cargo.toml): $how"
  done
  printf '[toolchain] rust: %s (>= %s)\n' "$(rustc --version)" "$need"
}

playwright() {
  local line major
  command -v node >/dev/null || err "node not found: the browser test needs node >= 20 (or Debian 12's nodejs 18, with playwright-core $PLAYWRIGHT_NODE18)"
  line=$(node --version 2>/dev/null || true)
  major=$(sed -n 's/^v\([0-9]*\)\..*/\1/p' <<<"$line")
  [ -n "$major" ] || err "cannot tell the version of $(command -v node) ('$line'): the browser test needs node >= 20"
  if [ "$major" -ge 20 ]; then
    echo "$PLAYWRIGHT_PINNED"
  elif [ "$major" -ge 18 ]; then
    printf '[toolchain] node %s: playwright-core %s needs node >= 20; using %s, the last release for node 18\n' \
      "$line" "$PLAYWRIGHT_PINNED" "$PLAYWRIGHT_NODE18" >&2
    echo "$PLAYWRIGHT_NODE18"
  else
    err "$(command -v node) is $line; the browser test needs node >= 20 (node 18, Debian 12's nodejs, works with playwright-core $PLAYWRIGHT_NODE18)"
  fi
}

case "${1:-}" in
  rust) rust ;;
  playwright) playwright ;;
  *) err "usage: $0 rust|playwright" ;;
esac
