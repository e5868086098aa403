#!/usr/bin/env bash
# Installs Debian's chromium for the tests that render Drydock's HTML pages in a real headless browser.
# Idempotent: does nothing when chromium is already there. Prints the browser's path.
set -euo pipefail
if ! command -v chromium > /dev/null 2>&1; then
  echo "installing chromium (Debian package) for the browser tests..." >&2
  if [ "$(id -u)" = 0 ]; then
    (apt-get install -y -q chromium > /dev/null 2>&1 || { apt-get update -q > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium > /dev/null; }) >&2
  else
    sudo -n apt-get install -y -q chromium > /dev/null >&2
  fi
fi
command -v chromium
