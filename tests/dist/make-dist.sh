#!/usr/bin/env bash
# `make dist`: builds dist/apicall-<version>.tgz, the module as FreePBX 17's Module Admin
# installs it (upload, or `fwconsole ma install` after unpacking into admin/modules):
# one top folder apicall/ with module.xml, the PHP files, Console/, includes/, views/,
# assets/, agi-bin/, i18n/, README.md, LICENSE, openapi.yaml, ext/apicall.so (the stripped
# release build of the PHP extension for PHP 8.2 x86_64) and bin/: the local speech
# service (apicall-speechd, requirements-speechd.txt), its control script apicall-speech
# and apicall, the stripped release build of the command-line tool (rust/cli). Nothing
# from target/, tests/ or .stack/.
#
# The release builds take minutes: target/release/libapicall.so and target/release/apicall
# are reused when newer than every Rust source, Cargo.toml and Cargo.lock (else cargo
# builds them); APICALL_RELEASE_SO=/path/libapicall.so and APICALL_RELEASE_CLI=/path/apicall
# use prebuilt ones instead.
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

# ------------------------------------------------- the extension and the CLI
# release_build FILE PACKAGE WHAT: cargo build --release -p PACKAGE unless FILE is newer
# than every Rust source.
release_build() {
  local file=$1 package=$2 what=$3 newer="" t
  if [ -f "$file" ]; then
    newer=$(find rust Cargo.toml Cargo.lock -type f \( -name '*.rs' -o -name 'Cargo.toml' -o -name 'Cargo.lock' -o -name 'build.rs' \) \
      -newer "$file" -print -quit 2>/dev/null || true)
  fi
  if [ ! -f "$file" ] || [ -n "$newer" ]; then
    say "building the release $what (cargo build --release -p $package${newer:+; $newer changed}) ..."
    t=$(date +%s.%N)
    cargo build --release -p "$package"
    touch "$file"     # cargo leaves it alone when this package did not change
    say "release build of the $what: $(elapsed "$t")"
  else
    say "reusing $file (newer than every Rust source)"
  fi
}
SO=${APICALL_RELEASE_SO:-$REPO/target/release/libapicall.so}
[ -n "${APICALL_RELEASE_SO:-}" ] || release_build "$SO" apicall-php extension
[ -f "$SO" ] || die "$SO is missing"
CLI=${APICALL_RELEASE_CLI:-$REPO/target/release/apicall}
[ -n "${APICALL_RELEASE_CLI:-}" ] || release_build "$CLI" apicall-cli "command-line tool"
[ -f "$CLI" ] || die "$CLI is missing"
file -b "$CLI" | grep -q 'ELF 64-bit LSB pie executable, x86-64\|ELF 64-bit LSB executable, x86-64' || die "$CLI is not an x86-64 executable"
nm -D --defined-only "$SO" | grep -q ' get_module$' || die "$SO is not a PHP extension (no get_module)"
file -b "$SO" | grep -q 'ELF 64-bit LSB shared object, x86-64' || die "$SO is not an x86-64 shared object"

# ---------------------------------------------------------------- staging
stage=$(mktemp -d /tmp/apicall-dist.XXXXXX)
trap 'rm -rf "$stage"' EXIT
top="$stage/$RAWNAME"
mkdir -p "$top/ext" "$top/bin"
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
for f in apicall-speechd apicall-speech requirements-speechd.txt; do
  [ -f "bin/$f" ] || die "bin/$f is missing"
  cp "bin/$f" "$top/bin/$f"
done
strip --strip-all -o "$top/bin/apicall" "$CLI"
bash -n "$top/bin/apicall-speech" || die "bin/apicall-speech: bash syntax"
# Only regular files and folders; modes as Module Admin leaves them (agi-bin executable).
find "$top" -type d -exec chmod 0755 {} +
find "$top" -type f -exec chmod 0644 {} +
chmod 0755 "$top"/agi-bin/* "$top/bin/apicall" "$top/bin/apicall-speech" "$top/bin/apicall-speechd"
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
say "$out: $(du -h "$out" | cut -f1), $(tar -tzf "$out" | wc -l) entries, extension $(du -h "$top/ext/apicall.so" | cut -f1) (needs: $needed), CLI $(du -h "$top/bin/apicall" | cut -f1)"
say "sha256 $(sha256sum "$out" | cut -d' ' -f1)  ($(elapsed "$t0"))"
