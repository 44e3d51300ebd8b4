# syntax=docker/dockerfile:1

# songbot's container image. Build:
#   docker build -t songbot --build-arg VERSION=$(git describe --always --dirty) .
# Run (settings and secrets come from .env at run time, never from the image):
#   docker run -d --env-file .env -v songbot-data:/data songbot

FROM golang:1.26-bookworm AS build
WORKDIR /src

# Dependencies first, so this layer stays cached until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/songbot . \
 && mkdir -p /out/data \
 && chown 65532:65532 /out/data

# distroless/static has CA certificates and nothing else: no shell, no
# package manager. Its nonroot user is 65532; it is written as a number so
# that Kubernetes' runAsNonRoot can check it.
FROM gcr.io/distroless/static-debian12:nonroot
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
ENTRYPOINT ["/songbot"]
