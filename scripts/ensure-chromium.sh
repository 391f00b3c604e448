#!/usr/bin/env bash
# The browser tests run in Debian's Chromium (Playwright cannot download its own browser here).
# Installs it when it is missing and we are allowed to; otherwise says exactly what to do.
set -euo pipefail
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$chromium" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "lingoguard: installing Debian's chromium for the browser tests..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "lingoguard: the browser tests need Chromium at $chromium." >&2
echo "  Debian/Ubuntu: sudo apt-get install -y chromium   (or set CHROMIUM_PATH)" >&2
exit 1
