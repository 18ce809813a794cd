#!/usr/bin/env bash
# Installs the aws CLI (v1, from PyPI) for the tests that drive `eventplane
# dev` with it (consumers/cmd/eventplane: TestAWSCLIAgainstDev).
set -euo pipefail
if command -v aws >/dev/null 2>&1 && aws --version >/dev/null 2>&1; then
  exit 0
fi
python3 -m pip install --quiet --disable-pip-version-check awscli
