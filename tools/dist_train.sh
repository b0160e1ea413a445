#!/usr/bin/env bash
# Multi-GPU training with torchrun: bash tools/dist_train.sh CONFIG NGPUS [args]
CONFIG=$1
GPUS=$2
PORT=${PORT:-29500}
shift 2
torchrun --nproc_per_node="$GPUS" --master_port="$PORT" \
    "$(dirname "$0")/train.py" "$CONFIG" --launcher pytorch "$@"
