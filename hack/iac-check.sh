#!/usr/bin/env bash
# Offline checks of the infrastructure code:
#   1. formatting: terraform fmt -check (or hclfmt when terraform is absent)
#   2. terraform init -backend=false, validate and plan of dev, staging and
#      prod with the repository's topology, of dev and prod with a second, differently
#      shaped one (terraform/testdata/topology-variants.yaml), and terraform
#      test of every module with tests/ — all against the real providers'
#      schemas served by hack/tfprovider (hack/tfplan.sh): no error, no warning
#   3. tflint, bundled terraform ruleset, "all" preset: zero findings
#   4. trivy config on the repository's infrastructure code (terraform/,
#      charts/, kustomize/, the Dockerfile) and on what users apply: the chart
#      rendered with each environment's values and every kustomize overlay
#      built, and the children the operator creates for their EventConsumers
#      (hack/children): no HIGH or CRITICAL finding (reviewed exceptions, each scoped
#      to its files and explained, are in .trivyignore.yaml)
# The Go checks (terraform/checks_test.go) run with `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$(hack/tools.sh tflint trivy hclfmt helm | tail -1)"
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

if command -v terraform >/dev/null 2>&1; then
  start=$SECONDS
  hack/tfplan.sh plan dev staging prod
  echo "== dev and prod with terraform/testdata/topology-variants.yaml"
  # staging differs from prod in sizing only
  TOPOLOGY_FILE=terraform/testdata/topology-variants.yaml hack/tfplan.sh plan dev prod
  hack/tfplan.sh test
  echo "   (terraform validate, 5 plans and the tests: $((SECONDS - start)) s)"
else
  echo "hack/iac-check.sh: terraform is not installed: validate, plan and test cannot run" >&2
  exit 1
fi

echo "== tflint (all rules)"
tflint --chdir=terraform --config="$PWD/terraform/.tflint.hcl" --recursive --format=compact

echo "== trivy config (HIGH, CRITICAL)"
# trivy's evaluator cannot expand for_each over the contents of a file that
# Terraform reads, so the topology is also handed over as a variable; the scan
# runs from the repository root so that ../.. module sources resolve.
mkdir -p build
go run ./hack/tfvars api/topology.yaml > build/topology.tfvars.json
skip=()
for d in consumers hack api build .git .ci; do skip+=(--skip-dirs "$d"); done
trivy config --quiet --skip-check-update --skip-version-check --tf-vars build/topology.tfvars.json \
  --ignorefile .trivyignore.yaml "${skip[@]}" --severity HIGH,CRITICAL --exit-code 1 .

echo "== trivy config on the rendered chart (per environment) and the built overlays"
rm -rf build/rendered && mkdir -p build/rendered
TF_OUTPUT_JSON=hack/helmvalues/testdata/dev-output.json hack/helm-values.sh dev > build/rendered/generated-values.yaml
for env in dev staging prod; do
  helm template eventplane charts/eventplane -n eventplane -f "charts/eventplane/values-$env.yaml" \
    -f build/rendered/generated-values.yaml > "build/rendered/chart-$env.yaml"
  kubectl kustomize "kustomize/overlays/$env" > "build/rendered/kustomize-$env.yaml"
  # What the operator creates for each EventConsumer: the consumers' pods.
  go run ./hack/children < "build/rendered/chart-$env.yaml" > "build/rendered/children-$env.yaml"
done
rm build/rendered/generated-values.yaml
trivy config --quiet --skip-check-update --skip-version-check --ignorefile .trivyignore.yaml \
  --severity HIGH,CRITICAL --exit-code 1 build/rendered
echo "iac checks passed"
