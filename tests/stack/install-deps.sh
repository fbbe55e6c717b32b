#!/usr/bin/env bash
# Installs (as root, idempotently) what the local stack and the tests need on a fresh
# Debian 12: PHP 8.2 + dev headers, Apache 2.4 + mod_php, MariaDB, libclang (bindgen for
# ext-php-rs), espeak-ng + sox (TTS and audio checks), mmdebstrap + patchelf (Asterisk 22
# from sid), unixODBC; the system user `asterisk`; the Python venv .stack/venv.
# Quick when everything is there already.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PKGS=(
  php8.2-cli php8.2-dev php8.2-mysql php8.2-curl php8.2-mbstring php8.2-xml
  libclang-dev pkg-config
  apache2 libapache2-mod-php8.2
  mariadb-server mariadb-client
  espeak-ng flite sox libsox-fmt-mp3 libmp3lame-dev
  php-symfony-console chromium
  mmdebstrap patchelf
  unixodbc odbc-mariadb
  python3 python3-venv
  curl ca-certificates iproute2 procps psmisc file binutils
)

[ "$(id -u)" = 0 ] || die "install-deps.sh must run as root"
t0=$(now)
# Before anything is installed: Debian 12 cannot provide the Rust this needs (rustup can).
bash "$REPO/tests/stack/toolchain.sh" rust || die "the Rust toolchain is missing or too old (see above)"

missing=()
for p in "${PKGS[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$st" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  say "apt packages: all ${#PKGS[@]} present"
else
  say "apt packages: installing ${missing[*]}"
  # Keep Debian's own apache2/mariadb from being started by the install (they would
  # take ports 80/3306 we do not use); services that already run are left alone.
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
  fi
  trap '[ $own_policy = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ $own_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
  trap - EXIT
  say "apt packages: installed in $(elapsed "$t0")"
fi

# The system user that runs Asterisk and Apache, as on FreePBX.
if ! id "$AST_USER" >/dev/null 2>&1; then
  useradd --system --user-group --home-dir /var/lib/asterisk --no-create-home \
    --shell /usr/sbin/nologin --comment "Asterisk PBX (apicall stack)" "$AST_USER"
  say "user $AST_USER: created"
else
  say "user $AST_USER: present"
fi

# Python venv for the integration tests (Debian's python3, not whatever is first in PATH).
VENV="$STACK/venv"
REQ=(pytest pymysql)
want="${REQ[*]}"
if [ -f "$REPO/tests/integration/requirements.txt" ]; then
  REQ+=(-r "$REPO/tests/integration/requirements.txt")
  want="$want $(md5sum < "$REPO/tests/integration/requirements.txt")"
fi
stamp="$VENV/.apicall-req"
if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  say "python venv: present ($VENV)"
else
  t1=$(now)
  mkdir -p "$STACK"
  [ -x "$VENV/bin/python" ] || /usr/bin/python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${REQ[@]}"
  echo "$want" > "$stamp"
  say "python venv: ready in $(elapsed "$t1") ($VENV)"
fi
# The local speech-to-text service: its venv and models (PyPI).
bash "$REPO/tests/stack/speechd.sh" install
say "install-deps: done in $(elapsed "$t0")"
