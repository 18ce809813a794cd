#!/usr/bin/env bash
# Installs schemathesis (PyPI) if its CLI is missing; the ingest API's
# property-based test runs it against the local HTTP mode with api/openapi.yaml.
set -euo pipefail
command -v schemathesis >/dev/null 2>&1 && exit 0
python3 -m pip install --quiet 'schemathesis>=4,<5'
command -v schemathesis >/dev/null 2>&1 || { echo "hack/schemathesis.sh: schemathesis not on PATH after pip install" >&2; exit 1; }
