#!/usr/bin/env bash
# Regenerates from kubebuilder markers: deepcopy methods and the EventConsumer
# CRD (charts/eventplane/crds/) from api/v1alpha1, and the operator's
# ClusterRole from the RBAC markers in consumers/operator (into the chart's
# files/ and kustomize/base/rbac/). Run after changing either; --check (CI)
# fails when the committed files are stale.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$(hack/tools.sh controller-gen | tail -1)"
"$BIN/controller-gen" object paths=./api/v1alpha1/...
"$BIN/controller-gen" crd paths=./api/v1alpha1/... output:crd:artifacts:config=charts/eventplane/crds
"$BIN/controller-gen" rbac:roleName=eventplane-operator paths=./consumers/operator/... output:rbac:artifacts:config=kustomize/base/rbac
mkdir -p charts/eventplane/files
cp kustomize/base/rbac/role.yaml charts/eventplane/files/operator-role.yaml
mkdir -p kustomize/base/crds
cp charts/eventplane/crds/eventplane.io_eventconsumers.yaml kustomize/base/crds/
if [[ "${1:-}" == "--check" ]]; then
  generated=(api/v1alpha1 charts/eventplane/crds kustomize/base/rbac/role.yaml kustomize/base/crds charts/eventplane/files/operator-role.yaml)
  if [[ -n "$(git status --porcelain -- "${generated[@]}")" ]]; then
    git status --short -- "${generated[@]}" >&2
    git diff -- "${generated[@]}" >&2
    echo "hack/codegen.sh: generated files were stale: run hack/codegen.sh and commit the result" >&2
    exit 1
  fi
fi
