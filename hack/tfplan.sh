#!/usr/bin/env bash
# Offline `terraform init`, `validate` and `plan` of every environment, and
# `terraform test` of every module, against the real providers' schemas.
#
# No provider can be downloaded here, so hack/tfprovider (a schema-only
# provider serving `terraform providers schema -json` of hashicorp/aws
# 6.47.1 and hashicorp/helm 2.17.0) is installed from a local
# filesystem_mirror as exactly those versions: the commands are the ones a
# user runs, and init records a lock file as usual. (A dev_overrides
# configuration is not enough: `terraform init` still looks both providers up
# in the registry and fails with "Failed to query available provider
# packages"; without init there are no modules and no backend.)
#
# The S3 backend cannot be reached either: validate runs after
# `terraform init -backend=false`; for plan a *_override.tf puts the state in
# a local file under build/tf (deleted afterwards with the lock file).
#
#   hack/tfplan.sh [plan] [dev|staging|prod ...]   plan the environments (default: all three)
#   hack/tfplan.sh test [module ...]               terraform test in each module with tests/
#
# EVENTPLANE_TF_SCHEMAS names the schema file (default
# hack/tfprovider/schemas/provider-schemas.json.gz, the real providers' schemas);
# TOPOLOGY_FILE plans with another topology (a YAML file, as api/topology.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
export EVENTPLANE_TF_SCHEMAS="${EVENTPLANE_TF_SCHEMAS:-$ROOT/hack/tfprovider/schemas/provider-schemas.json.gz}"
if [[ ! -f "$EVENTPLANE_TF_SCHEMAS" ]]; then
  echo "hack/tfplan.sh: no provider schemas at $EVENTPLANE_TF_SCHEMAS (set EVENTPLANE_TF_SCHEMAS)" >&2
  exit 2
fi

# The provider binary, built once per source version.
CACHE="${EVENTPLANE_TOOLS:-$HOME/.cache/eventplane/bin}/../tfprovider"
hash="$(cat go.mod go.sum $(find hack/tfprovider -name '*.go' ! -name '*_test.go' | sort) | sha256sum | cut -c1-16)"
dir="$CACHE/$hash"
if [[ ! -x "$dir/terraform-provider" ]]; then
  mkdir -p "$dir"
  GOFLAGS=-buildvcs=false go build -trimpath -o "$dir/terraform-provider.tmp" ./hack/tfprovider
  mv "$dir/terraform-provider.tmp" "$dir/terraform-provider"
fi
dir="$(cd "$dir" && pwd)"
mirror="$dir/mirror/registry.terraform.io/hashicorp"
mkdir -p "$mirror/aws/6.47.1/linux_amd64" "$mirror/helm/2.17.0/linux_amd64"
ln -sf "$dir/terraform-provider" "$mirror/aws/6.47.1/linux_amd64/terraform-provider-aws_v6.47.1"
ln -sf "$dir/terraform-provider" "$mirror/helm/2.17.0/linux_amd64/terraform-provider-helm_v2.17.0"

work="$ROOT/build/tf"
mkdir -p "$work"
cat >"$work/cli.tfrc" <<CFG
provider_installation {
  filesystem_mirror {
    path    = "$dir/mirror"
    include = ["hashicorp/aws", "hashicorp/helm"]
  }
}
CFG
export TF_CLI_CONFIG_FILE="$work/cli.tfrc" TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1

# The Lambda zips the plans hash are `make lambda`'s output (arm64: the
# environments' architecture).
lambda_zips() {
  ls build/lambda/lambda-files-arm64.zip build/lambda/lambda-ingest-arm64.zip build/lambda/lambda-sqs-arm64.zip >/dev/null 2>&1 ||
    LAMBDA_ARCHS=arm64 hack/lambda.sh >/dev/null
}

cleanup=()
trap 'rm -f "${cleanup[@]}"' EXIT

# init <dir> <data dir> [args]: terraform init without touching the tree but
# for the lock file, which is removed again unless it was there before.
init() {
  local d="$1" data="$2"; shift 2
  [[ -f "$d/.terraform.lock.hcl" ]] || cleanup+=("$d/.terraform.lock.hcl")
  TF_DATA_DIR="$data" terraform -chdir="$d" init -no-color "$@" >"$data.init.log" 2>&1 || { cat "$data.init.log"; return 1; }
}

mode=plan
if [[ "${1:-}" == plan || "${1:-}" == test ]]; then mode="$1"; shift; fi

lambda_zips
if [[ "$mode" == test ]]; then
  mods=("$@")
  if [[ ${#mods[@]} -eq 0 ]]; then
    for t in terraform/modules/*/tests terraform/tests; do [[ -d "$t" ]] && mods+=("$(dirname "$t")"); done
  fi
  for m in "${mods[@]}"; do
    name="$(echo "${m#terraform/}" | tr / -)"
    mkdir -p "$work/test-$name"
    echo "== terraform test: $m"
    init "$m" "$work/test-$name/.terraform" -backend=false
    TF_DATA_DIR="$work/test-$name/.terraform" terraform -chdir="$m" test -no-color
  done
  exit 0
fi


envs=("$@")
[[ ${#envs[@]} -gt 0 ]] || envs=(dev staging prod)
vars=()
if [[ -n "${TOPOLOGY_FILE:-}" ]]; then
  go run ./hack/tfvars "$TOPOLOGY_FILE" >"$work/topology.tfvars.json"
  vars=(-var-file="$work/topology.tfvars.json")
fi
for env in "${envs[@]}"; do
  d="terraform/environments/$env"
  data="$work/$env/.terraform"
  rm -rf "$work/$env" && mkdir -p "$work/$env"
  start=$SECONDS
  echo "== $env: terraform init -backend=false, validate"
  init "$d" "$data" -backend=false
  TF_DATA_DIR="$data" terraform -chdir="$d" validate -no-color
  echo "== $env: terraform plan"
  override="$d/zz_offline_backend_override.tf"
  cleanup+=("$override")
  printf 'terraform {\n  backend "local" {\n    path = "%s"\n  }\n}\n' "$work/$env/terraform.tfstate" >"$override"
  init "$d" "$data" -reconfigure
  if ! TF_DATA_DIR="$data" terraform -chdir="$d" plan -no-color -lock=false "${vars[@]}" -out="$work/$env/plan" >"$work/$env/plan.log" 2>&1; then
    cat "$work/$env/plan.log"
    echo "hack/tfplan.sh: plan of $env failed" >&2
    exit 1
  fi
  rm -f "$override"
  # A plan is clean when it has neither errors nor warnings.
  if grep -q '^Warning' "$work/$env/plan.log"; then
    grep -A8 '^Warning' "$work/$env/plan.log"
    echo "hack/tfplan.sh: plan of $env has warnings" >&2
    exit 1
  fi
  grep -E '^Plan:' "$work/$env/plan.log"
  echo "   ($env: $((SECONDS - start)) s)"
done
