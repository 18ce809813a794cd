#!/usr/bin/env bash
# Builds every Lambda function for provided.al2023 (GOOS=linux, CGO off,
# trimmed, stripped; the binary is named bootstrap) for arm64 and amd64, and
# packs each into build/lambda/<function>-<arch>.zip, the files Terraform's
# lambda module deploys (LAMBDA_ARCHS="arm64" builds one). Prints each zip's size.
# The tags: lambda.norpc (no RPC server, provided.al2023 only) and grpcnotrace
# (see hack/image-binaries.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/lambda
mkdir -p "$out"
for fn in lambda-files lambda-ingest lambda-sqs; do
  for arch in ${LAMBDA_ARCHS:-arm64 amd64}; do
    dir="$out/$fn-$arch"
    rm -rf "$dir" && mkdir -p "$dir"
    GOOS=linux GOARCH=$arch CGO_ENABLED=0 go build -trimpath -tags lambda.norpc,grpcnotrace -ldflags="-s -w -buildid=" \
      -o "$dir/bootstrap" "./consumers/cmd/$fn"
    rm -f "$out/$fn-$arch.zip"
    (cd "$dir" && python3 -c 'import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    info = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = 0o100755 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, open("bootstrap", "rb").read())' "../$fn-$arch.zip")
    printf '%-40s %8d bytes (binary %d)\n' "$out/$fn-$arch.zip" "$(stat -c %s "$out/$fn-$arch.zip")" "$(stat -c %s "$dir/bootstrap")"
  done
done
