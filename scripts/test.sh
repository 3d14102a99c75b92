#!/usr/bin/env bash
# Runs the whole test suite, setting up .venv first if needed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/bootstrap.sh"
cd "$root"
# As pip installs it, byte-compiled: the suite runs escape-guard hundreds of times, and with
# PYTHONDONTWRITEBYTECODE set an editable install is compiled afresh by every run.
.venv/bin/python -m compileall -q src >/dev/null
exec .venv/bin/python -m pytest "$@"
