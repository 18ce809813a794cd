#!/usr/bin/env bash
# Installs boto3 (PyPI) for the test that drives `eventplane dev` from a
# second language's SDK (consumers/cmd/eventplane: TestBoto3AgainstDev).
# The aws CLI v1 (hack/awscli.sh) pins botocore exactly: boto3 is installed
# at the release that fits that botocore, so the CLI keeps working.
set -euo pipefail
if python3 -c 'import boto3' >/dev/null 2>&1; then
  exit 0
fi
pins=()
if v="$(python3 -c 'import botocore; print(botocore.__version__)' 2>/dev/null)"; then
  pins=("botocore==$v")
fi
python3 -m pip install --quiet --disable-pip-version-check boto3 "${pins[@]}"
