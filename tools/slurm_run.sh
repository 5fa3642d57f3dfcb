#!/usr/bin/env bash
# Shared by tools/slurm_train.sh and tools/slurm_test.sh: run a tool of this
# folder under Slurm, one task per GPU, with --launcher=slurm:
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS="..."] \
#   tools/slurm_run.sh PARTITION JOB_NAME TOOL [TOOL arguments]
# srun starts GPUS tasks, GPUS_PER_NODE per node; the tools read SLURM_PROCID,
# SLURM_NTASKS, SLURM_LOCALID and SLURM_NODELIST (the first node is the
# master; MASTER_PORT, default 29500). The interpreter is $PYTHON (default
# python); paths are relative to the current folder.
if [ $# -lt 3 ]; then
    echo "usage: $0 PARTITION JOB_NAME TOOL [TOOL arguments]" >&2
    exit 1
fi
set -x
PARTITION=$1
JOB_NAME=$2
TOOL=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}

# SRUN_ARGS holds several srun options: split into words on purpose.
# shellcheck disable=SC2086
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    $SRUN_ARGS \
    "${PYTHON:-python}" -u "$(dirname "$0")/$TOOL" "${@:4}" --launcher=slurm
