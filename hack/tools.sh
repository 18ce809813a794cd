#!/usr/bin/env bash
# Builds the command-line tools the project's checks need from the Go module proxy
# into a cache folder (default $HOME/.cache/eventplane/bin) and prints that folder.
# A tool already built at the pinned version is not rebuilt.
#
#   hack/tools.sh [tool ...]     tools: staticcheck golangci-lint tflint trivy hclfmt controller-gen helm kwok aws-lambda-rie promtool (default: all)
#
# Cold builds: staticcheck ~1 min, golangci-lint ~2 min, helm ~2 min, tflint ~4.5 min, trivy ~14 min (3.3 GB peak).
set -euo pipefail

BIN="${EVENTPLANE_TOOLS:-$HOME/.cache/eventplane/bin}"
mkdir -p "$BIN"

# golangci-lint is built here, not a `tool` directive in go.mod: its install
# docs (golangci-lint.run, "Install from Sources") advise against `go tool`
# because the linter's ~200 dependencies would enter our go.mod/go.sum and
# resolve against ours, giving a binary its authors never tested. Its
# prebuilt release binary is the other way they recommend; only the Go proxy
# is reachable here, so `go install` of the pinned tag it is. deadcode, whose
# module (x/tools) is already in go.mod, is a `tool` there (go tool deadcode).
declare -A PKG=(
  [staticcheck]="honnef.co/go/tools/cmd/staticcheck@v0.8.0"
  [golangci-lint]="github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0"
  [tflint]="github.com/terraform-linters/tflint@v0.64.0"
  [trivy]="github.com/aquasecurity/trivy/cmd/trivy@v0.74.0"
  [hclfmt]="github.com/hashicorp/hcl/v2/cmd/hclfmt@v2.24.0"
  [controller-gen]="sigs.k8s.io/controller-tools/cmd/controller-gen@v0.23.0"
  [helm]="helm.sh/helm/v3/cmd/helm@v3.22.0"
  [kwok]="sigs.k8s.io/kwok/cmd/kwok@v0.8.0"
  [aws-lambda-rie]="github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"
  [promtool]="github.com/prometheus/prometheus/cmd/promtool@v0.316.0"
)
# Extra environment per tool build.
declare -A BUILDENV=(
  [trivy]="GOEXPERIMENT=jsonv2"
)
# Linker flags per tool, as the tool's own release build sets them (helm's
# Makefile stamps its version and the Kubernetes version that offline
# `helm template`/`helm lint` assume: 1.37 for helm built with client-go v0.37).
declare -A LDFLAGS=(
  [helm]="-X helm.sh/helm/v3/internal/version.version=v3.22.0 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=37 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=37"
)

install_tool() {
  local name="$1" spec="${PKG[$1]:-}"
  if [[ -z "$spec" ]]; then
    echo "hack/tools.sh: unknown tool '$name' (known: ${!PKG[*]})" >&2
    return 2
  fi
  local stamp="$BIN/.$name.version" want="$spec ${LDFLAGS[$name]:-}"
  want="${want% }"
  if [[ -x "$BIN/$name" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  echo "hack/tools.sh: building $spec" >&2
  env ${BUILDENV[$name]:-} GOBIN="$BIN" GOFLAGS=-buildvcs=false go install -ldflags="${LDFLAGS[$name]:-}" "$spec"
  echo "$want" >"$stamp"
}

tools=("$@")
[[ ${#tools[@]} -eq 0 ]] && tools=("${!PKG[@]}")
for t in "${tools[@]}"; do install_tool "$t"; done
echo "$BIN"
