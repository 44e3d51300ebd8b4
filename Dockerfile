# syntax=docker/dockerfile:1

# songbot's container image. Build:
#   docker build -t songbot --build-arg VERSION=$(git describe --always --dirty) \
#     --build-arg REVISION=$(git rev-parse HEAD) .
# (.git stays out of the build context, so the commit comes from REVISION.)
# For several platforms at once (cross-compiled, no emulation):
#   docker buildx build --platform linux/amd64,linux/arm64 -t songbot .
# Run (settings come from .env at run time, never from the image):
#   docker run -d --env-file .env -v songbot-data:/data songbot
#
# Base images are pinned by digest (the multi-platform index of the tag in
# the comment above each FROM), so a rebuild gets the same bytes. To move to
# a newer build of a tag, print its digest with
#   docker buildx imagetools inspect <image>:<tag>
# and replace both.

# The build stage runs on the builder's own platform and cross-compiles for
# the target's: Go needs no emulator for that.
# golang:1.26.8-bookworm (go.mod asks for go 1.26.8)
FROM --platform=$BUILDPLATFORM golang:1.26.8-bookworm@sha256:9fdc884aacc3bec89b20ffc69f4bb369c78210e3e4f600387b5128b12c199f81 AS build
WORKDIR /src

# Dependencies first, so this layer stays cached until go.mod or go.sum
# change; the module cache survives between builds in a cache mount.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY . .
ARG VERSION=dev
ARG REVISION=
ARG TARGETOS
ARG TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" -o /out/songbot . \
 && mkdir -p /out/data

# distroless/static has CA certificates and nothing else: no shell, no
# package manager, no curl (hence `songbot healthcheck`). Its nonroot user
# is 65532; it is written as a number so that Kubernetes' runAsNonRoot can
# check it.
# gcr.io/distroless/static-debian12:nonroot
FROM gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab
ARG VERSION=dev
ARG REVISION=
LABEL org.opencontainers.image.title="songbot" \
      org.opencontainers.image.description="Discord bot that turns /song into an original song made by the Whisul music API" \
      org.opencontainers.image.source="https://github.com/songbot-dev/songbot" \
      org.opencontainers.image.url="https://github.com/songbot-dev/songbot" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /out/songbot /songbot
# The embedded store lives in /data; the nonroot user must be able to write it.
COPY --from=build --chown=65532:65532 /out/data /data
ENV DATA_DIR=/data
# /healthz, /readyz and /metrics on every interface of the container, so
# probes and Prometheus can reach them; nothing is published unless you ask
# (docker run -p), and the endpoints expose no secrets.
ENV HTTP_ADDR=:8080
EXPOSE 8080
VOLUME /data
USER 65532:65532
# Liveness for Docker and compose. Kubernetes ignores HEALTHCHECK: probe
# /healthz (liveness) and /readyz (readiness) with httpGet instead.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/songbot", "healthcheck"]
ENTRYPOINT ["/songbot"]
