#!/usr/bin/env bash
# Regenerates from the kubebuilder markers in api/v1alpha1: deepcopy methods
# and the EventConsumer CRD (charts/eventplane/crds/). Run after changing the
# API types; a test fails when the committed CRD is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$(hack/tools.sh controller-gen | tail -1)"
"$BIN/controller-gen" object paths=./api/v1alpha1/...
"$BIN/controller-gen" crd paths=./api/v1alpha1/... output:crd:artifacts:config=charts/eventplane/crds
if [[ "${1:-}" == "--check" ]]; then
  if ! git diff --exit-code -- api/v1alpha1 charts/eventplane/crds; then
    echo "hack/codegen.sh: generated files were stale: run hack/codegen.sh and commit the result" >&2
    exit 1
  fi
fi
