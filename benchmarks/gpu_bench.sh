#!/usr/bin/env bash
# The benchmark on a GPU machine, in one command (JAX with CUDA already installed there):
#   AMAML_COMMIT=$(git rev-parse --short HEAD) bash benchmarks/gpu_bench.sh OUT_DIR [extra amaml bench flags]
# Writes OUT_DIR/bench.{json,md} and the figures, with the device name in the table header.
set -euo pipefail
out=${1:?usage: gpu_bench.sh OUT_DIR [flags]}
shift
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1
nvidia-smi -L || true
python3 -m amaml bench --workloads paper --out "$out" --memory-limit-gb 60 "$@"
