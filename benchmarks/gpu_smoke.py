"""GPU smoke test of the core: one jitted meta-update per method, timed.

Usage: python benchmarks/gpu_smoke.py [--out FILE.json]
Workload as the paper's: meta-batch 5, MLP 1-32-32-1 tanh, 50 support + 50 query points,
float32, K = 200, h = 0.01. Compile time is reported separately from the median of
repeated runs. Not a benchmark of record (that is issue 4's `amaml bench`).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import jax
import jax.numpy as jnp
import optax

import amaml


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=None)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    family = amaml.tasks.Sinusoid()
    tasks = family.sample_tasks(jax.random.key(0), 5, 50, 50)
    params = amaml.models.mlp_init(jax.random.key(1), [1, 32, 32, 1])
    loss = amaml.losses.mse(amaml.models.mlp_apply)
    optimizer = optax.sgd(0.01)
    k, h = args.steps, 0.01
    methods = {
        "A-MAML rk4/rk4": amaml.AdjointMAML(k, h),
        "A-MAML euler/euler": amaml.AdjointMAML(k, h, forward=amaml.Euler(), backward=amaml.Euler()),
        "discrete adjoint (euler)": amaml.DiscreteAdjoint(k, h),
        "MAML": amaml.MAML(k, h),
        "FOMAML": amaml.FOMAML(k, h),
        "iMAML": amaml.IMAML(k, h),
        "Reptile": amaml.Reptile(k, h),
    }
    rows = []
    for name, method in methods.items():
        step = jax.jit(lambda p, s, t, m=method: amaml.meta_train_step(m, loss, optimizer, p, s, t))
        state = optimizer.init(params)
        start = time.perf_counter()
        out = step(params, state, tasks)
        jax.block_until_ready(out)
        compile_s = time.perf_counter() - start
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            jax.block_until_ready(step(params, state, tasks))
            times.append(time.perf_counter() - start)
        rows.append(
            {
                "method": name,
                "steps": k,
                "compile_s": compile_s,
                "median_ms": 1e3 * statistics.median(times),
                "finite": bool(jnp.isfinite(out[2])),
            }
        )
        print(
            f"{name:28s} compile {compile_s:6.2f} s   median {rows[-1]['median_ms']:8.2f} ms   "
            f"finite {rows[-1]['finite']}"
        )
    header = {
        "devices": [str(d) for d in jax.devices()],
        "device_kind": jax.devices()[0].device_kind,
        "jax": jax.__version__,
        "python": platform.python_version(),
    }
    print(json.dumps(header))
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"header": header, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
