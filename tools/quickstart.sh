#!/usr/bin/env bash
# Creates .venv (if missing) and installs requirements.txt and the test-only
# requirements-test.txt into it (one pip command, so torch stays pinned).
#   bash tools/quickstart.sh && .venv/bin/python -m pytest -q
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --disable-pip-version-check -q -r requirements.txt \
    -r requirements-test.txt
