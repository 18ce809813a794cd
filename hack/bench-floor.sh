#!/usr/bin/env bash
# The consumer at the bare-SDK floor (issue 20): in one invocation, drains
# EVENTS SNS-wrapped CloudEvents from ElasticMQ on loopback with a bare
# aws-sdk-go-v2 loop (consumers/internal/floorbench/sqsloop) and with the
# consumer binary (telemetry off, then on: /metrics scraped, spans exported to
# a loopback OTLP sink), ROUNDS times, and prints medians and ratios to the
# bare loop (CPU s per 1,000 events from rusage, SQS requests per event,
# peak RSS). PROFILE=DIR adds two profiled consumer runs: telemetry off
# (DIR/cpu.pprof, heap.pprof) and on (DIR/cpu-telemetry.pprof, heap-telemetry.pprof).
#
#   hack/bench-floor.sh      EVENTS=20000 ROUNDS=3 by default; ~5 min on 2 cores
set -euo pipefail
cd "$(dirname "$0")/.."
hack/setup.sh bench >/dev/null
bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
# Built as the image's binaries are (hack/image-binaries.sh): static, trimmed,
# stripped, grpcnotrace; a cgo build would map libc too (~1.5 MB of RSS).
CGO_ENABLED=0 go build -trimpath -tags grpcnotrace -ldflags="-s -w" -o "$bin/" ./consumers/cmd/consumer ./consumers/internal/floorbench ./consumers/internal/floorbench/sqsloop
"$bin/floorbench" -consumer "$bin/consumer" -sqsloop "$bin/sqsloop" -events "${EVENTS:-20000}" -rounds "${ROUNDS:-3}" \
  ${PROFILE:+-profile "$PROFILE"}
