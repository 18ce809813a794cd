#!/usr/bin/env bash
# Installs the moto server (AWS API emulator) from PyPI if moto_server is not
# on the PATH. Used by .ci/run; safe to run repeatedly.
set -euo pipefail
export PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
if command -v moto_server >/dev/null 2>&1; then
  exit 0
fi
python3 -m pip install --quiet 'moto[server]>=5,<6'
command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
command -v moto_server >/dev/null 2>&1 || {
  echo "hack/moto.sh: moto_server still not on PATH after pip install (check the pip scripts directory)" >&2
  exit 1
}
