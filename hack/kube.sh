#!/usr/bin/env bash
# Builds the Kubernetes control-plane binaries from the Go module proxy into a
# cache folder ($HOME/.cache/eventplane/kube, override with EVENTPLANE_KUBE)
# and prints it (use it as KUBEBUILDER_ASSETS): etcd and kube-apiserver (what
# envtest runs), kube-controller-manager (garbage collector, ReplicaSets, HPA)
# and kube-scheduler (for the simulated cluster). Cold: etcd ~40 s,
# kube-apiserver ~7 min and ~2 GB, the other two a few minutes more; a binary
# already built at the pinned version is not rebuilt.
set -euo pipefail
OUT="${EVENTPLANE_KUBE:-$HOME/.cache/eventplane/kube}"
ETCD_VERSION=v3.6.16
K8S_VERSION=v1.36.3
STAGING_VERSION=v0.36.3
mkdir -p "$OUT"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0

if [[ "$(cat "$OUT/.etcd.version" 2>/dev/null)" != "$ETCD_VERSION" || ! -x "$OUT/etcd" ]]; then
  echo "hack/kube.sh: building etcd $ETCD_VERSION" >&2
  mkdir -p "$work/etcd" && cd "$work/etcd"
  go mod init local/etcd >/dev/null 2>&1
  cat > main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1
  go mod tidy >/dev/null 2>&1
  go build -trimpath -o "$OUT/etcd" .
  echo "$ETCD_VERSION" > "$OUT/.etcd.version"
  cd - >/dev/null
fi

# kubernetes' go.mod refers to its staging modules as ./staging/...; map
# each to the published module of the same release.
staging=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider cluster-bootstrap
  code-generator component-base component-helpers controller-manager cri-api cri-client csi-translation-lib
  dynamic-resource-allocation endpointslice externaljwt kms kube-aggregator kube-controller-manager kube-proxy
  kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission sample-apiserver sample-cli-plugin
  sample-controller streaming)
for cmd in kube-apiserver kube-controller-manager kube-scheduler; do
  if [[ "$(cat "$OUT/.$cmd.version" 2>/dev/null)" == "$K8S_VERSION" && -x "$OUT/$cmd" ]]; then
    continue
  fi
  echo "hack/kube.sh: building $cmd $K8S_VERSION (several minutes)" >&2
  if [[ ! -f "$work/k8s/go.mod" ]]; then
    mkdir -p "$work/k8s" && cd "$work/k8s"
    go mod init local/k8s >/dev/null 2>&1
    for m in "${staging[@]}"; do
      go mod edit -replace "k8s.io/$m=k8s.io/$m@$STAGING_VERSION"
    done
    go mod edit -require "k8s.io/kubernetes@$K8S_VERSION"
  fi
  cd "$work/k8s"
  go get -tool "k8s.io/kubernetes/cmd/$cmd@$K8S_VERSION" >/dev/null
  pkg=k8s.io/component-base/version
  go build -trimpath -ldflags "-X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=36" \
    -o "$OUT/$cmd" "k8s.io/kubernetes/cmd/$cmd"
  echo "$K8S_VERSION" > "$OUT/.$cmd.version"
  cd - >/dev/null
done
echo "$OUT"
