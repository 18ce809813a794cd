#!/usr/bin/env bash
# Writes the Helm values of one environment from its Terraform outputs:
#
#   hack/helm-values.sh dev|staging|prod [extra helmvalues flags]   > build/values-<env>.yaml
#
# It runs `terraform output -json` in terraform/environments/<env> (or reads
# the file named by TF_OUTPUT_JSON) and api/topology.yaml, and prints values
# with the region, each consumer's queue URL and DLQ, its handler options
# resolved to the environment's physical names, and its identity. Flags:
# -identity irsa (roleArn per consumer instead of EKS Pod Identity),
# -postgres-secret NAME (Secret with key dsn for sql routes).
set -euo pipefail
cd "$(dirname "$0")/.."
env="${1:?usage: hack/helm-values.sh dev|staging|prod [flags]}"
shift
case "$env" in dev|staging|prod) ;; *) echo "hack/helm-values.sh: unknown environment '$env' (dev, staging, prod)" >&2; exit 2;; esac
if [[ -n "${TF_OUTPUT_JSON:-}" ]]; then
  exec go run ./hack/helmvalues -env "$env" -topology api/topology.yaml -in "$TF_OUTPUT_JSON" "$@"
fi
terraform -chdir="terraform/environments/$env" output -json | go run ./hack/helmvalues -env "$env" -topology api/topology.yaml -in - "$@"
