#!/usr/bin/env bash
# Installs Debian's Chromium (for the dashboard's headless browser test) if
# it is missing, and prints its path.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  echo "hack/chromium.sh: installing chromium (apt)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
command -v chromium
