# eventplane — developer entry points. `make help` lists them.
SHELL := bash
TOOLS ?= $(HOME)/.cache/eventplane/bin
# pip's console scripts (moto_server, schemathesis) are found wherever pip puts them.
PYSCRIPTS := $(shell python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null)
export PATH := $(TOOLS):$(PYSCRIPTS):$(PATH)
GO ?= go
FUZZTIME ?= 5m
# moto is slow: the suite runs half its event counts unless told otherwise.
CHAOSFLAGS ?= -scale 0.5

.PHONY: help setup run test lint iac bench fuzz tools build lambda image image-binaries helm-values cluster-up cluster-down chaos

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

# The version every binary reports (eventplane --version, the first log line).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -X github.com/eventplane/eventplane/consumers/buildinfo.version=$(VERSION)

run: ## run the whole platform locally (eventplane dev, with PostgreSQL when installed): dashboard and ingest API on http://127.0.0.1:4000
	@$(GO) build -tags grpcnotrace -ldflags "$(LDFLAGS)" -o bin/eventplane ./consumers/cmd/eventplane
	@exec bin/eventplane dev $(RUNFLAGS)

setup: ## install or build every tool the tests and checks need (cached; cold ~35 min, warm < 5 s)
	hack/setup.sh all

test: ## set up the test tools (cached), then run every test (unit, fuzz seeds, CLI) with the race detector
	@hack/setup.sh test
	$(GO) test -race -count=1 ./...

lint: tools ## no build output tracked, gofmt, golangci-lint (vet, staticcheck, errcheck, gosec, revive, unparam, dupl, bodyclose), deadcode, generated code up to date
	hack/tree-check.sh
	@out="$$(gofmt -l api consumers hack)"; if [[ -n "$$out" ]]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@# .golangci.yml says what runs and why; gosec there scans what ships
	@# (api/, consumers/ without tests, consumers/local and consumers/internal
	@# left out), and an accepted finding carries `//nolint:<linter> // reason`
	@# (`#nosec Gxxx -- reason` for gosec).
	golangci-lint run ./...
	hack/deadcode.sh
	hack/codegen.sh --check

iac: ## offline Terraform checks: fmt, validate + plan of every environment and terraform test (schema provider), tflint, trivy
	hack/iac-check.sh

chaos: ## fault suite: moto + a fault proxy + the consumer binary, one table row per scenario (~40 min; CHAOSFLAGS='-only poison -scale 0.5' for one row); its smoke is in make test
	$(GO) run ./consumers/internal/chaos $(CHAOSFLAGS)

bench: ## hot-path benchmarks reported as ratios to their baselines
	hack/bench.sh

fuzz: ## run every fuzz target for FUZZTIME each (default 5m)
	$(GO) test ./consumers/jsonscan -run '^$$' -fuzz '^FuzzScanner$$' -fuzztime $(FUZZTIME)
	$(GO) test ./consumers/event -run '^$$' -fuzz '^FuzzNormalize$$' -fuzztime $(FUZZTIME)
	$(GO) test ./consumers/event -run '^$$' -fuzz '^FuzzParseSource$$' -fuzztime $(FUZZTIME)
	$(GO) test ./consumers/route -run '^$$' -fuzz '^FuzzCompile$$' -fuzztime $(FUZZTIME)
	$(GO) test ./consumers/route -run '^$$' -fuzz '^FuzzMatchJSON$$' -fuzztime $(FUZZTIME)

tools: ## build the pinned lint tools into $(TOOLS)
	@hack/setup.sh lint

lambda: ## build the Lambda zips into build/lambda (provided.al2023, arm64 and amd64)
	hack/lambda.sh

image-binaries: ## build the container image's binaries without Docker (build/image/, linux, reproducible) and print their sha256
	VERSION=$(VERSION) hack/image-binaries.sh build/image/usr/local/bin
	@cd build/image/usr/local/bin && sha256sum consumer operator eventplane

IMAGE_ARCH ?= $(shell $(GO) env GOARCH)
image: ## build the container image without Docker: build/image.oci (OCI layout) and build/image.tar; pushes to IMAGE_REPO when set
	GOARCH=$(IMAGE_ARCH) VERSION=$(VERSION) hack/image-binaries.sh build/image/usr/local/bin
	$(GO) run ./hack/imagebuild --binaries build/image/usr/local/bin --out build/image.oci --tarball build/image.tar \
	  --version $(VERSION) --revision "$$(git rev-parse HEAD 2>/dev/null)" --arch $(IMAGE_ARCH) $(if $(IMAGE_REPO),--repo $(IMAGE_REPO))

helm-values: ## write build/values-$(ENV).yaml from `terraform output -json` of terraform/environments/$(ENV)
	@test -n "$(ENV)" || { echo "usage: make helm-values ENV=dev|staging|prod"; exit 2; }
	@mkdir -p build && hack/helm-values.sh $(ENV) > build/values-$(ENV).yaml && echo "wrote build/values-$(ENV).yaml"

cluster-up: ## start the simulated cluster (kube-apiserver, controller-manager, scheduler, kwok, KEDA, moto) on loopback
	hack/cluster.sh up

cluster-down: ## stop the simulated cluster
	hack/cluster.sh down

build: ## build the binaries into bin/ (bin/eventplane is the CLI), stamped with VERSION
	CGO_ENABLED=0 $(GO) build -trimpath -tags grpcnotrace -ldflags "$(LDFLAGS)" -o bin/ ./consumers/cmd/...
