#!/usr/bin/env bash
# Builds the Debian sid root with Asterisk 22 at .stack/sid (mmdebstrap), once, and a
# patched copy of the asterisk binary at .stack/bin/asterisk that runs on this host
# through the sid root's own loader and libraries. Idempotent: a marker file records
# the package list the root was built with; the root is rebuilt only when it changes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PACKAGES="asterisk,asterisk-modules,asterisk-core-sounds-en-wav,asterisk-mp3,odbc-mariadb,unixodbc"
MIRROR="http://deb.debian.org/debian"
MARKER="$SID/.apicall-root"
WANT="packages=$PACKAGES"

[ "$(id -u)" = 0 ] || die "asterisk-root.sh must run as root"
command -v mmdebstrap >/dev/null || die "mmdebstrap missing: run tests/stack/install-deps.sh first"
command -v patchelf >/dev/null || die "patchelf missing: run tests/stack/install-deps.sh first"
mkdir -p "$STACK/bin"

if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$WANT" ]; then
  say "sid root: present ($SID)"
else
  t0=$(now)
  say "sid root: building with mmdebstrap (Asterisk 22 from Debian sid; about a minute)"
  rm -rf "$SID.tmp"
  # Check-Valid-Until: the registry's copy of sid's Release file can be past its date.
  mmdebstrap --quiet --variant=apt \
    --aptopt='Acquire::Check-Valid-Until "false"' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --include="$PACKAGES" \
    sid "$SID.tmp" "$MIRROR"
  rm -rf "$SID"
  mv "$SID.tmp" "$SID"
  echo "$WANT" > "$MARKER"
  rm -f "$AST_BIN"
  say "sid root: built in $(elapsed "$t0") ($(du -sh "$SID" | cut -f1))"
fi

# The loader, resolved inside the root (the root's own symlinks may be absolute).
LOADER="$SID/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
[ -e "$LOADER" ] || die "no loader at $LOADER"
LIBPATH="$SID/usr/lib/x86_64-linux-gnu:$SID/usr/lib/x86_64-linux-gnu/odbc"

# A copy of the binary whose interpreter and library search path (DT_RPATH, which also
# covers the libraries and modules it loads) point into the sid root, so it runs on the
# host as a process named `asterisk` while everything it starts (AGI, PHP) is the host's.
if [ ! -x "$AST_BIN" ] || [ "$AST_BIN" -ot "$SID/usr/sbin/asterisk" ] \
   || [ "$(patchelf --print-interpreter "$AST_BIN" 2>/dev/null)" != "$LOADER" ]; then
  cp "$SID/usr/sbin/asterisk" "$AST_BIN.tmp"
  patchelf --set-interpreter "$LOADER" --force-rpath --set-rpath "$LIBPATH" "$AST_BIN.tmp"
  mv "$AST_BIN.tmp" "$AST_BIN"
  say "asterisk binary: patched copy at $AST_BIN"
fi
"$AST_BIN" -V >/dev/null 2>&1 || die "$AST_BIN does not run"
say "asterisk binary: $("$AST_BIN" -V)"
