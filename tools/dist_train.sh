#!/usr/bin/env bash
# Multi-GPU / multi-node training with torchrun:
#   bash tools/dist_train.sh CONFIG NGPUS [train.py args]
# NGPUS processes per node (CPU processes with gloo where CUDA is missing).
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR and PORT, the same on every node.
# PYTHON picks the interpreter (default: python on PATH, e.g. .venv/bin).
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: bash $0 CONFIG NGPUS [train.py args]" >&2
    exit 2
fi
CONFIG=$1
GPUS=$2
shift 2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" \
exec "${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "$@"
