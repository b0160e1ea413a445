#!/usr/bin/env bash
# Quick start: create .venv from requirements.txt, then train the toy default
# (`train`) or run the test suite (`test`).
#   bash tools/quickstart.sh train   # generated toy data, CPU, a few minutes
#   bash tools/quickstart.sh test    # pytest
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --disable-pip-version-check -q -r requirements.txt
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
case "${1:-}" in
    train)
        shift
        exec .venv/bin/python run_experiments.py \
            --config configs/toy/toy_hrda_daformer_mitb0.py "$@" ;;
    test)
        shift
        exec .venv/bin/python -m pytest -q "$@" ;;
    *)
        echo "usage: bash tools/quickstart.sh train|test [extra arguments]" >&2
        exit 2 ;;
esac
