#!/usr/bin/env bash
# The demo's screenshot test shows Chinese, Japanese, Bengali and Hindi text, which Chromium
# draws as boxes when no installed font covers the script. Installs the smallest Debian fonts
# that do (about 1.8 MB of packages) for whichever language fontconfig finds no font for.
set -euo pipefail
has() { command -v fc-list >/dev/null && [ -n "$(fc-list ":lang=$1" family)" ]; }
missing=()
{ has zh-cn && has ja; } || missing+=(fonts-wqy-microhei)
has bn || missing+=(fonts-lohit-beng-bengali)
has hi || missing+=(fonts-lohit-deva)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "lingoguard: installing fonts for the demo's screenshots: ${missing[*]}..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fontconfig "${missing[@]}" >/dev/null
  exit 0
fi
echo "lingoguard: the demo test needs fonts for Chinese, Japanese, Bengali and Hindi." >&2
echo "  Debian/Ubuntu: sudo apt-get install -y ${missing[*]}" >&2
exit 1
