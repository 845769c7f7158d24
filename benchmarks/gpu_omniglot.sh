#!/usr/bin/env bash
# MAML's Omniglot accuracy against meta-updates at the published budget (5-way 1-shot, meta-batch
# 32, up to 60,000 meta-updates), on a GPU machine (JAX with CUDA already installed there):
#   AMAML_COMMIT=$(git rev-parse --short HEAD) bash benchmarks/gpu_omniglot.sh DATA_DIR OUT_DIR [flags]
# DATA_DIR holds the Omniglot files (`amaml data fetch omniglot`); extra flags go to
# `amaml reproduce omniglot-updates` (e.g. `--budget quick` to try the script on a CPU).
# The run resumes from OUT_DIR/runs when started again, so a time limit loses nothing.
set -euo pipefail
data=${1:?usage: gpu_omniglot.sh DATA_DIR OUT_DIR [flags]}
out=${2:?usage: gpu_omniglot.sh DATA_DIR OUT_DIR [flags]}
shift 2
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1
nvidia-smi -L || true
python3 -m amaml reproduce omniglot-updates --budget paper --data-dir "$data" --out "$out" --quiet "$@"
