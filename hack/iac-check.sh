#!/usr/bin/env bash
# Offline checks of the infrastructure code (no provider can be downloaded, so
# terraform init/validate cannot run here):
#   1. formatting: terraform fmt -check (or hclfmt when terraform is absent)
#   2. tflint, bundled terraform ruleset, "all" preset: zero findings
#   3. trivy config on terraform/ (and, once they exist, charts/, kustomize/
#      and the Dockerfile): no HIGH or CRITICAL finding
# The Go checks (terraform/checks_test.go) run with `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$(hack/tools.sh tflint trivy hclfmt | tail -1)"
export PATH="$BIN:$PATH"

echo "== terraform formatting"
if command -v terraform >/dev/null 2>&1; then
  terraform fmt -check -recursive -diff terraform
else
  tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
  bad=0
  while IFS= read -r f; do
    cp "$f" "$tmp/f.tf"; hclfmt -w "$tmp/f.tf"
    if ! cmp -s "$f" "$tmp/f.tf"; then echo "needs formatting: $f"; bad=1; fi
  done < <(find terraform -name '*.tf' -o -name '*.tfvars' -o -name '*.hcl' | grep -v '/\.terraform/')
  [[ $bad -eq 0 ]]
fi

echo "== tflint (all rules)"
tflint --chdir=terraform --config="$PWD/terraform/.tflint.hcl" --recursive --format=compact

echo "== trivy config (HIGH, CRITICAL)"
targets=(terraform)
for t in charts kustomize Dockerfile; do [[ -e $t ]] && targets+=("$t"); done
for t in "${targets[@]}"; do
  trivy config --quiet --skip-check-update --skip-version-check \
    --severity HIGH,CRITICAL --exit-code 1 "$t"
done
echo "iac checks passed"
