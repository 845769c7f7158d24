#!/usr/bin/env bash
# Issue 14's GPU measurements (H100/H200, JAX with CUDA there), in two calls of under 10 minutes:
#   ONLY="f64-k200 f32-k200-unroll1 f32-k200-unroll8 f32-k200-unroll32 f32-k200-cmdbuf-off \
#         f32-k200-cmdbuf-loops wide" bash benchmarks/gpu_round2.sh OUT_DIR      (about 6 minutes)
#   ONLY="diffrax throughput" bash benchmarks/gpu_round2.sh OUT_DIR             (about 8 minutes)
# (AMAML_COMMIT=$(git rev-parse --short HEAD) names the commit where the copy has no .git.)
# Each step is one `amaml bench` (or `amaml throughput`) run into OUT_DIR/<step>/ (JSON, markdown, figures):
#   f64-k200         the authors' configuration in float64 at K = 200: the A-MAML variants,
#                    the exact discrete adjoint and MAML
#   f32-k200-unrollU the paper workload in float32 with U steps per scan iteration (1, 8, 32):
#                    fewer loop iterations, fewer per-iteration launches and synchronisations
#   f32-k200-cmdbuf-{off,loops}
#                    XLA's command buffers (CUDA graphs) off, and extended to loop bodies and
#                    conditionals (WHILE, CONDITIONAL), against the default of the installed XLA
#   wide             the wide MLP at K = 10, 100, 1000 with the default (memory-aware) checkpoints
#   diffrax          `--against diffrax` at K = 50, 500 (Euler, Heun, RK4; stored and checkpointed),
#                    when diffrax imports; on a machine without internet carry its pure-Python
#                    wheels in .whl/ (`pip download -d .whl --no-deps diffrax equinox lineax optimistix
#                    wadler-lindig`, carried with the call's `carry: [".whl"]`; installed --no-deps)
#   throughput       `amaml throughput`: tasks/s against the meta-batch (5 ... 1000), GFLOP/s against
#                    the width (32 ... 1024) against the device's measured matmul peak
# ONLY="step ..." runs just those steps (one 10-minute call does not hold them all: split in two).
# `--quick` runs every step at K = 5 with one repeat: the CPU rehearsal of the script
# (PYTHON=.venv/bin/python where the system python has no JAX).
# A step that fails or passes its time limit is reported and the script goes on.
set -uo pipefail
out=${1:?usage: gpu_round2.sh OUT_DIR [--quick]}
quick=${2:-}
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1
steps=200 wide_steps=10,100,1000 diffrax_steps=50,500 repeats=20 limit=150
batches=5,50,500,1000 widths=32,128,512,1024 tp_steps=50
if [[ $quick == --quick ]]; then
  steps=5 wide_steps=5 diffrax_steps=5 repeats=1 limit=300 batches=2,3 widths=8,16 tp_steps=2
fi
nvidia-smi -L || true

step() { # step COMMAND NAME [flags]: one `amaml COMMAND` run into $out/NAME, bounded in time
  local command=$1 name=$2
  shift 2
  if [[ -n ${ONLY:-} && " $ONLY " != *" $name "* ]]; then return; fi
  echo "== $name"
  timeout "$limit" "${PYTHON:-python3}" -m amaml "$command" --out "$out/$name" --quiet --repeats "$repeats" "$@" \
    || echo "== $name: exit $? (see above)"
}
bench() { step bench "$@"; }

paper=(--workloads paper --steps "$steps")
bench f64-k200 "${paper[@]}" --dtype float64 --timeout 60 \
  --methods "A-MAML,A-MAML rk4/euler stored,A-MAML euler/euler,discrete adjoint,MAML"
for unroll in 1 8 32; do
  bench "f32-k200-unroll$unroll" "${paper[@]}" --unroll "$unroll" --timeout 60 --methods "A-MAML,discrete adjoint"
done
XLA_FLAGS="${XLA_FLAGS:-} --xla_gpu_enable_command_buffer=" \
  bench f32-k200-cmdbuf-off "${paper[@]}" --timeout 60 --methods "A-MAML,discrete adjoint"
XLA_FLAGS="${XLA_FLAGS:-} --xla_gpu_enable_command_buffer=FUSION,CUBLAS,CUDNN,CUSTOM_CALL,WHILE,CONDITIONAL" \
  bench f32-k200-cmdbuf-loops "${paper[@]}" --timeout 60 --methods "A-MAML,discrete adjoint"
bench wide --workloads wide --steps "$wide_steps" --timeout 60 --memory-limit-gb 60 --methods "discrete adjoint,MAML"
if ! "${PYTHON:-python3}" -c "import diffrax" 2>/dev/null && [[ -d .whl ]]; then
  "${PYTHON:-python3}" -m pip install --quiet --no-index --no-deps .whl/*.whl || true
fi
if "${PYTHON:-python3}" -c "import diffrax" 2>/dev/null; then
  limit=420 bench diffrax --workloads paper --steps "$diffrax_steps" --timeout 60 --methods "discrete adjoint" --against diffrax
else
  echo "== diffrax: not installed, skipped"
fi
# tasks/s against the meta-batch and GFLOP/s against width (PyTorch stays on the CPU table)
limit=300 step throughput throughput --batches "$batches" --torch-batches none --widths "$widths" --steps "$tp_steps" \
  --timeout 60
echo "== done: $(find "$out" -name "*.md" | wc -l) tables under $out"
