#!/usr/bin/env bash
# Installs schemathesis (PyPI) if its CLI is missing; the ingest API's
# property-based test runs it against the local HTTP mode with api/openapi.yaml.
set -euo pipefail
export PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
command -v schemathesis >/dev/null 2>&1 && exit 0
python3 -m pip install --quiet 'schemathesis>=4,<5'
command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
command -v schemathesis >/dev/null 2>&1 || { echo "hack/schemathesis.sh: schemathesis not on PATH after pip install" >&2; exit 1; }
