# syntax=docker/dockerfile:1
# docker-proxy-filter: a static Go binary on distroless, running as non-root.

FROM golang:1.26-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY internal ./internal
# The build context has no .git, so the version and commit are passed in:
#   docker build --build-arg VERSION=v1.2.3 --build-arg COMMIT=$(git rev-parse HEAD) .
ARG VERSION=devel
ARG COMMIT=
RUN go build -ldflags "-s -w \
      -X github.com/dpf-dev/docker-proxy-filter/internal/version.version=${VERSION} \
      -X github.com/dpf-dev/docker-proxy-filter/internal/version.commit=${COMMIT}" \
    -o /out/docker-proxy-filter ./cmd/docker-proxy-filter \
 && mkdir -p /out/socket-dir

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/docker-proxy-filter /docker-proxy-filter
# 65532 = nonroot in distroless. To talk to /var/run/docker.sock directly
# (rather than to a socket proxy over TCP), give the container the socket's
# group, e.g. compose `group_add: ["<gid of docker.sock>"]`.
USER 65532:65532
# Where LISTEN=unix:///run/docker-proxy-filter/docker.sock goes. Owned by
# 65532 so a named volume mounted here (to share the socket with a client
# container) starts writable by the proxy: Docker copies the image
# directory's owner into an empty volume.
COPY --from=build --chown=65532:65532 /out/socket-dir /run/docker-proxy-filter
EXPOSE 2375
# No shell in the image: the binary checks itself.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/docker-proxy-filter", "healthcheck"]
ENTRYPOINT ["/docker-proxy-filter"]
