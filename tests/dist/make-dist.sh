#!/usr/bin/env bash
# `make dist`: builds dist/apicall-<version>.tgz, the module as FreePBX 17's Module Admin
# installs it (upload, or `fwconsole ma install` after unpacking into admin/modules):
# one top folder apicall/ with module.xml, the PHP files, Console/, includes/, views/,
# assets/, agi-bin/, i18n/, README.md, LICENSE, openapi.yaml and ext/apicall.so, the
# stripped release build of the PHP extension for PHP 8.2 x86_64. Nothing from target/,
# tests/ or .stack/.
#
# The release extension takes minutes to build: target/release/libapicall.so is reused
# when it is newer than every Rust source, Cargo.toml and Cargo.lock (else cargo builds
# it); APICALL_RELEASE_SO=/path/libapicall.so uses a prebuilt one instead.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
export PATH="$HOME/.cargo/bin:/root/.cargo/bin:$PATH"
say() { printf '[dist] %s\n' "$*"; }
die() { printf '[dist] ERROR: %s\n' "$*" >&2; exit 1; }
t0=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1fs", b - a }'; }

VERSION=$(php -r '$x = simplexml_load_file("module.xml"); echo (string) $x->version;')
RAWNAME=$(php -r '$x = simplexml_load_file("module.xml"); echo (string) $x->rawname;')
[ -n "$VERSION" ] && [ "$RAWNAME" = apicall ] || die "module.xml: no version or not rawname apicall"

# ---------------------------------------------------------------- the extension
SO=${APICALL_RELEASE_SO:-$REPO/target/release/libapicall.so}
if [ -z "${APICALL_RELEASE_SO:-}" ]; then
  newer=""
  if [ -f "$SO" ]; then
    newer=$(find rust Cargo.toml Cargo.lock -type f \( -name '*.rs' -o -name 'Cargo.toml' -o -name 'Cargo.lock' -o -name 'build.rs' \) \
      -newer "$SO" -print -quit 2>/dev/null || true)
  fi
  if [ ! -f "$SO" ] || [ -n "$newer" ]; then
    say "building the release extension (cargo build --release -p apicall-php${newer:+; $newer changed}) ..."
    t=$(date +%s.%N)
    cargo build --release -p apicall-php
    say "release build: $(elapsed "$t")"
  else
    say "reusing $SO (newer than every Rust source)"
  fi
fi
[ -f "$SO" ] || die "$SO is missing"
nm -D --defined-only "$SO" | grep -q ' get_module$' || die "$SO is not a PHP extension (no get_module)"
file -b "$SO" | grep -q 'ELF 64-bit LSB shared object, x86-64' || die "$SO is not an x86-64 shared object"

# ---------------------------------------------------------------- staging
stage=$(mktemp -d /tmp/apicall-dist.XXXXXX)
trap 'rm -rf "$stage"' EXIT
top="$stage/$RAWNAME"
mkdir -p "$top/ext"
files=(module.xml Apicall.class.php Backup.php Restore.php Job.php page.apicall.php install.php uninstall.php
       index.php aibot.php cdr.php answer.php README.md LICENSE openapi.yaml)
for f in "${files[@]}"; do
  [ -f "$f" ] || die "$f is missing"
  cp "$f" "$top/$f"
done
for d in Console includes views assets agi-bin i18n; do
  [ -d "$d" ] && cp -r "$d" "$top/$d"
done
strip --strip-unneeded -o "$top/ext/apicall.so" "$SO"
# Only regular files and folders; modes as Module Admin leaves them (agi-bin executable).
find "$top" -type d -exec chmod 0755 {} +
find "$top" -type f -exec chmod 0644 {} +
chmod 0755 "$top"/agi-bin/*
find "$top" \( -name '*~' -o -name '.*.swp' -o -name '__pycache__' -o -name '.DS_Store' \) -prune -exec rm -rf {} +
for f in "$top"/*.php "$top"/includes/*.php "$top"/views/*.php "$top"/Console/*.php "$top"/agi-bin/*.php; do
  php -n -l "$f" >/dev/null || die "php -l $f"
done

mkdir -p dist
out="dist/$RAWNAME-$VERSION.tgz"
mtime=$(git log -1 --format=%ct 2>/dev/null || date +%s)
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" -C "$stage" -czf "$out.tmp" "$RAWNAME"
mv "$out.tmp" "$out"
needed=$(readelf -d "$top/ext/apicall.so" | awk '/NEEDED/ { gsub(/[\[\]]/, "", $5); printf "%s ", $5 }')
say "$out: $(du -h "$out" | cut -f1), $(tar -tzf "$out" | wc -l) entries, extension $(du -h "$top/ext/apicall.so" | cut -f1) (needs: $needed)"
say "sha256 $(sha256sum "$out" | cut -d' ' -f1)  ($(elapsed "$t0"))"
