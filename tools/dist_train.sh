#!/usr/bin/env bash
# Distributed training with torchrun: tools/dist_train.sh CONFIG NPROC [options]
# One process per GPU; without a GPU, NPROC CPU processes (gloo backend).
# Several machines (torchrun's --nnodes/--node_rank/--master_addr/--master_port):
# run on each, with node 0's address,
#   NNODES=2 NODE_RANK=0|1 MASTER_ADDR=10.0.0.1 PORT=29500 tools/dist_train.sh CONFIG NPROC
# where NPROC is the processes (GPUs) per machine.
# Paths are relative to the current folder, as with tools/train.py.
CONFIG=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
"${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" --master_port="$PORT" \
    "$(dirname "$0")/train.py" "$CONFIG" --launcher pytorch "${@:3}"
