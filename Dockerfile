# syntax=docker/dockerfile:1
# One image with the three binaries: /usr/local/bin/consumer (what each
# EventConsumer's pods run), /usr/local/bin/operator and /usr/local/bin/eventplane (CLI).
#
#   docker build --build-arg VERSION=v0.1.0 -t ghcr.io/eventplane/eventplane:v0.1.0 .
#
# Without Docker, `make image` builds the same binaries (hack/image-binaries.sh)
# into an OCI image on a from-scratch distroless-equivalent base
# (hack/imagebuild) and pushes it when IMAGE_REPO is set.
#
# Reproducible: pinned base images, hack/image-binaries.sh builds with
# -trimpath, no VCS stamp and an empty build id (`make image-binaries` builds
# the same bytes without Docker). For releases, pin both images by digest as
# well (docker buildx imagetools inspect <image>) via the build arguments.
ARG GO_IMAGE=golang:1.26.8-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM ${GO_IMAGE} AS build
WORKDIR /src
# Dependencies first, so that a source change reuses the module layer.
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY consumers/ consumers/
COPY hack/image-binaries.sh hack/
ARG TARGETOS=linux
ARG TARGETARCH
# The version the binaries report (make image passes the same VERSION).
ARG VERSION=devel
RUN GOOS=${TARGETOS} GOARCH=${TARGETARCH} VERSION=${VERSION} hack/image-binaries.sh /out

FROM ${RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="eventplane" \
      org.opencontainers.image.description="eventplane consumer, operator and CLI" \
      org.opencontainers.image.source="https://github.com/eventplane/eventplane" \
      org.opencontainers.image.licenses="MIT"
COPY --from=build /out/ /usr/local/bin/
# distroless "nonroot": uid/gid 65532, no shell, no package manager.
USER 65532:65532
# Consumers and the operator answer on their own admin ports; Kubernetes
# probes /healthz there, so no image-level HEALTHCHECK.
ENTRYPOINT ["/usr/local/bin/consumer"]
