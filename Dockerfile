# syntax=docker/dockerfile:1
#
# aws-reset-bot container image: a static Go binary in a distroless,
# non-root image (no shell, no package manager).
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t aws-reset-bot .
#   docker run --rm aws-reset-bot version
#
# At run time the image expects:
#   /etc/aws-reset-bot/config.yaml   the configuration (mount it read-only)
#   /var/lib/aws-reset-bot/          a persistent, writable volume for the
#                                    SQLite store (store.path); one writer only
#   SLACK_APP_TOKEN / SLACK_BOT_TOKEN, or *_FILE naming mounted secret files
#   AWS credentials from the SDK chain (IRSA on EKS, ECS task role, ...)
#
# Health: distroless has no shell and no curl, so there is no HEALTHCHECK
# here. Set http.addr (e.g. ":8080") and let the orchestrator probe it:
# GET /healthz (liveness: the process serves) and GET /readyz (readiness:
# Socket Mode connected and the store answers); /metrics is Prometheus.
# deploy/kubernetes/deployment.yaml shows the probes.

# At least go.mod's go line; golang:1.26 is the newest 1.26 patch release,
# with the standard library's latest security fixes.
ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first, so editing code does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
ARG TARGETOS
ARG TARGETARCH
# Pure Go (the SQLite driver too), so CGO is off and the binary is static.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X main.Version=${VERSION}" -o /out/aws-reset-bot ./bot
# The store's directory, to be copied in owned by the non-root user: a
# volume mounted there starts with this ownership.
RUN mkdir -p /out/store

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="aws-reset-bot" \
      org.opencontainers.image.description="Slack bot to reset your own AWS IAM console password" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/aws-reset-bot /aws-reset-bot
COPY --from=build --chown=65532:65532 /out/store /var/lib/aws-reset-bot
# Numeric, so Kubernetes' runAsNonRoot can check it.
USER 65532:65532
# A relative store.path (the default is ./aws-reset.db) lands in the volume.
WORKDIR /var/lib/aws-reset-bot
VOLUME ["/etc/aws-reset-bot", "/var/lib/aws-reset-bot"]
# Health and metrics, when http.addr is ":8080".
EXPOSE 8080
ENTRYPOINT ["/aws-reset-bot"]
CMD ["run", "--config", "/etc/aws-reset-bot/config.yaml"]
