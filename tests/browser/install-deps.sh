#!/usr/bin/env bash
# Installs what the browser test needs (idempotent, quick when done):
#   Debian's chromium; libjs-bootstrap, libjs-jquery, fonts-font-awesome (the stand-in
#   admin's Bootstrap 3 / jQuery / Font Awesome 4, as FreePBX's pages have them);
#   playwright-core from npm (no browser download) into .stack/browser/node_modules: 1.65.1,
#   which needs Node >= 20, or 1.61.1 when node is Debian 12's nodejs 18
#   (tests/stack/toolchain.sh playwright chooses; older node stops here with what to install).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DIR="$REPO/.stack/browser"
say() { printf '[browser] %s\n' "$*"; }
start=$(date +%s.%N)

missing=()
for pkg in chromium libjs-bootstrap libjs-jquery fonts-font-awesome nodejs; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null \
    || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
fi
command -v npm >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm >/dev/null
PLAYWRIGHT_VERSION=$(bash "$REPO/tests/stack/toolchain.sh" playwright) || exit 1

have=$(node -e "try{console.log(require('$DIR/node_modules/playwright-core/package.json').version)}catch(e){}" 2>/dev/null || true)
if [ "$have" != "$PLAYWRIGHT_VERSION" ]; then
  say "npm install playwright-core@$PLAYWRIGHT_VERSION into $DIR"
  mkdir -p "$DIR"
  [ -f "$DIR/package.json" ] || echo '{"name":"apicall-browser-test","private":true}' > "$DIR/package.json"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error \
    "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null
fi
say "deps ready: $(/usr/bin/chromium --version 2>/dev/null | head -1), node $(node --version), playwright-core $PLAYWRIGHT_VERSION ($(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1fs", b-a}'))"
