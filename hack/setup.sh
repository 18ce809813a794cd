#!/usr/bin/env bash
# Installs or builds every tool the tests and checks need, once: each step is
# cached (tool binaries under $HOME/.cache/eventplane, Python tools by pip,
# Debian packages by apt) and returns at once when its tool is already there.
# Prints one line per tool with the time it took. `make test`, `make lint`,
# `make iac` and .ci/run call it; run it by hand to warm a new machine.
#
#   hack/setup.sh            everything
#   hack/setup.sh test       what `make test` needs
#   hack/setup.sh lint|iac   what `make lint` / `make iac` need
#   hack/setup.sh bench      what `make bench` needs (ElasticMQ)
#
# Cold on a 2-core machine: ~35 min in all (kube-apiserver and KEDA dominate);
# warm: well under a second per tool.
set -euo pipefail
cd "$(dirname "$0")/.."
# Console scripts that pip installs (moto_server, schemathesis) live here.
PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$HOME/.cache/eventplane/bin:$PATH"
export PATH

step() {
  local name="$1"; shift
  local t0=$SECONDS
  if ! "$@" >/dev/null; then
    echo "setup: $name FAILED (ran: $*)" >&2
    return 1
  fi
  printf 'setup: %-16s ok (%ds)\n' "$name" $((SECONDS - t0))
}

kubectl_present() {
  command -v kubectl >/dev/null && return 0
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq kubectl >/dev/null 2>&1 || apt-get install -y -qq kubernetes-client >/dev/null
}

test_tools() {
  step moto hack/moto.sh
  step postgresql hack/postgres.sh
  step schemathesis hack/schemathesis.sh
  step awscli hack/awscli.sh
  step boto3 hack/boto3.sh
  step chromium hack/chromium.sh
  step kubectl kubectl_present
  step aws-lambda-rie hack/tools.sh aws-lambda-rie
  step helm hack/tools.sh helm
  step kwok hack/tools.sh kwok
  step promtool hack/tools.sh promtool
  step kube hack/kube.sh
  step keda hack/keda.sh
}
lint_tools() {
  step staticcheck hack/tools.sh staticcheck
  step golangci-lint hack/tools.sh golangci-lint
  step controller-gen hack/tools.sh controller-gen
}
iac_tools() {
  step tflint hack/tools.sh tflint
  step trivy hack/tools.sh trivy
  step hclfmt hack/tools.sh hclfmt
  step helm hack/tools.sh helm
}

bench_tools() {
  step elasticmq hack/elasticmq.sh
}

case "${1:-all}" in
  test) test_tools ;;
  lint) lint_tools ;;
  iac) iac_tools ;;
  bench) bench_tools ;;
  all) lint_tools; test_tools; iac_tools; bench_tools ;;
  *) echo "usage: hack/setup.sh [all|test|lint|iac|bench]" >&2; exit 2 ;;
esac
