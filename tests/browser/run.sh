#!/usr/bin/env bash
# The browser test (make test's "browser" suite): Debian's headless chromium driven by
# playwright-core loads the admin page from the stack's Apache through the stand-in's
# config.php, logs in, regenerates the token, saves settings, checks the API with the new
# and the old token, shows a refused value, and saves screenshots in tests/artifacts/.
# The module's kvstore (token, settings) is saved first and restored afterwards.
set -uo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STACK="$REPO/.stack"
say() { printf '[browser] %s\n' "$*"; }
[ -f "$STACK/env" ] || { say "no $STACK/env: run 'make up' first"; exit 1; }
set -a; . "$STACK/env"; set +a

bash "$REPO/tests/browser/install-deps.sh" || exit 1
mkdir -p "$REPO/tests/artifacts"
work=$(mktemp -d /tmp/apicall-browser.XXXXXX)
trap 'rm -rf "$work"' EXIT
as_asterisk() { runuser -u asterisk -- env PHP_INI_SCAN_DIR="$PHP_INI_SCAN_DIR" FREEPBX_CONF="$FREEPBX_CONF" "$@"; }

user="browser-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
pass=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
as_asterisk php "$REPO/tests/freepbx/tools/add-admin.php" "$user" "$pass" >/dev/null || exit 1
php "$REPO/tests/browser/state.php" save "$work/state.json" || exit 1

ADMIN_URL="http://127.0.0.1:8580/admin/config.php?display=apicall" ADMIN_USER="$user" ADMIN_PASS="$pass" \
  ARTIFACTS="$REPO/tests/artifacts" BROWSER_MODULES="$STACK/browser" \
  node "$REPO/tests/browser/admin_page.test.mjs"
rc=$?

php "$REPO/tests/browser/state.php" restore "$work/state.json" || rc=1
php -r '
  $bootstrap_settings = ["freepbx_auth" => false, "skip_astman" => true]; $restrict_mods = true;
  require getenv("FREEPBX_CONF");
  FreePBX::Database()->prepare("DELETE FROM ampusers WHERE username = ?")->execute([$argv[1]]);' "$user" || rc=1
exit $rc
