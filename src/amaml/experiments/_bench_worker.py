"""One benchmark measurement in a fresh process: ``python -m amaml.experiments._bench_worker ...``.

Prints two JSON lines: after compiling, the plan (XLA's compiled memory estimate, the
checkpointing plan, compile seconds), so that a measurement stopped for time still records
its memory; then the result: seconds per jitted meta-update (median of repeats, compile
excluded), the process's peak RSS and, on an accelerator, the device's peak bytes in use. A
configuration whose compiled memory estimate exceeds ``--memory-limit-gb`` is reported as
out of memory without running it.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time

PAPER_METHODS = (
    "A-MAML",
    "A-MAML euler/euler",
    "A-MAML rk4/euler stored",
    "discrete adjoint",
    "MAML",
    "MAML-1",
    "FOMAML",
    "iMAML",
    "Reptile",
)
"""What the paper workloads time by default: every method, in the paper's configurations."""
DIFFRAX_SOLVERS = ("euler", "heun", "rk4")
DIFFRAX_METHODS = tuple(f"diffrax {solver} {kept}" for solver in DIFFRAX_SOLVERS for kept in ("stored", "checkpointed"))
"""MAML's gradient through ``diffrax.diffeqsolve`` (``--against diffrax``), all K states kept or diffrax's default."""
BENCH_METHODS = (
    *PAPER_METHODS,
    "discrete adjoint heun",
    "discrete adjoint rk4",
    "A-MAML heun/heun",
    *DIFFRAX_METHODS,
)


def peak_rss_bytes() -> int:
    """This process's peak resident memory. VmHWM resets at exec; ru_maxrss inherits the
    parent's high-water mark across fork + exec on Linux, so it is only the fallback."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def build_method(name: str, steps: int, h: float, unroll: int | None = None):
    """The benchmark method ``name``; ``unroll=None`` lets the method pick by backend.

    ``diffrax SOLVER stored|checkpointed``: :class:`~amaml.experiments._diffrax.DiffraxDiscretise`
    keeping all K states, or diffrax's default of about sqrt(2K) (it has no ``unroll``).
    """
    import amaml

    if name not in BENCH_METHODS:
        raise ValueError(f"unknown benchmark method {name!r}; valid names are: {', '.join(BENCH_METHODS)}.")
    solvers = {"euler": amaml.Euler(), "heun": amaml.Heun(), "rk4": amaml.RK4()}
    if name.startswith("diffrax "):
        from ._diffrax import DiffraxDiscretise

        _, solver, kept = name.split()
        return DiffraxDiscretise(steps, h, forward=solvers[solver], checkpoints=None if kept == "stored" else "auto")
    table = {
        "A-MAML": lambda: amaml.AdjointMAML(steps, h, unroll=unroll),
        "A-MAML euler/euler": lambda: amaml.AdjointMAML(
            steps, h, forward=amaml.Euler(), backward=amaml.Euler(), unroll=unroll
        ),
        "A-MAML rk4/euler stored": lambda: amaml.AdjointMAML(
            steps, h, forward=amaml.RK4(), backward=amaml.Euler(), checkpoints=None, unroll=unroll
        ),
        "discrete adjoint": lambda: amaml.DiscreteAdjoint(steps, h, forward=amaml.Euler(), unroll=unroll),
        "discrete adjoint heun": lambda: amaml.DiscreteAdjoint(steps, h, forward=amaml.Heun(), unroll=unroll),
        "discrete adjoint rk4": lambda: amaml.DiscreteAdjoint(steps, h, forward=amaml.RK4(), unroll=unroll),
        "A-MAML heun/heun": lambda: amaml.AdjointMAML(
            steps, h, forward=amaml.Heun(), backward=amaml.Heun(), unroll=unroll
        ),
        "MAML": lambda: amaml.MAML(steps, h, unroll=unroll),
        "MAML-1": lambda: amaml.MAML(1, h, unroll=unroll),
        "FOMAML": lambda: amaml.FOMAML(steps, h, unroll=unroll),
        "iMAML": lambda: amaml.IMAML(steps, h, unroll=unroll),
        "Reptile": lambda: amaml.Reptile(steps, h, unroll=unroll),
    }
    return table[name]()


def load_workload(path, dtype: str):
    """``(params, tasks, loss_fn)`` of a workload file written by ``Workload.write`` (MLP or Conv4)."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax.flatten_util import ravel_pytree

    import amaml

    with np.load(path) as data:
        model = str(data["model"]) if "model" in data else "mlp"
        theta = data["theta"]
        tasks = amaml.Task(*(jnp.asarray(data[k]) for k in ("support_x", "support_y", "query_x", "query_y")))
        sizes = [int(s) for s in data["conv4" if model == "conv4" else "sizes"]]
    if model == "conv4":
        channels, filters, blocks, ways = sizes
        conv4 = amaml.models.Conv4(filters=filters, blocks=blocks)
        template = conv4.init(jax.random.key(0), channels, ways, jnp.dtype(dtype))
        loss = amaml.losses.cross_entropy(conv4.apply)
    else:
        template = amaml.models.mlp_init(jax.random.key(0), sizes, jnp.dtype(dtype))
        loss = amaml.losses.mse(amaml.models.mlp_apply)
    # theta fills the template's leaves in ravel_pytree's order (unravel checks its length)
    return ravel_pytree(template)[1](jnp.asarray(theta)), tasks, loss


def measure(args) -> dict:
    import jax

    if args.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np
    import optax
    from jax.flatten_util import ravel_pytree

    import amaml

    params, tasks, loss = load_workload(args.data, args.dtype)
    method = build_method(args.method, args.steps, args.step_size, args.unroll or None)
    if args.grad_out:  # the meta-gradient at the workload's parameters, for the PyTorch check
        grad = amaml.meta_value_and_grad(method, loss, params, tasks)[1]
        np.save(args.grad_out, np.asarray(ravel_pytree(grad)[0]))
    optimizer = optax.sgd(0.01)
    opt_state = optimizer.init(params)
    shardings = {}
    if args.devices:  # the meta-batch split over the first `devices` devices, theta replicated
        from amaml import distributed

        if args.devices > jax.device_count():
            raise ValueError(f"`--devices` {args.devices} > the {jax.device_count()} devices jax sees.")
        mesh = distributed.task_mesh(jax.devices()[: args.devices])
        tasks = distributed.shard_tasks(tasks, mesh)
        params, opt_state = distributed.replicate((params, opt_state), mesh)
        shardings["out_shardings"] = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
    update = jax.jit(
        lambda p, s, t: amaml.meta_train_step(method, loss, optimizer, p, s, t), donate_argnums=(0, 1), **shardings
    )

    start = time.perf_counter()
    compiled = update.lower(params, opt_state, tasks).compile()
    compile_seconds = time.perf_counter() - start
    analysis = compiled.memory_analysis()
    estimate = None
    if analysis is not None:
        estimate = int(analysis.temp_size_in_bytes + analysis.argument_size_in_bytes + analysis.output_size_in_bytes)
    result = {
        "compile_seconds": compile_seconds,
        "compiled_bytes": estimate,
        "device": jax.devices()[0].device_kind,
        "jax": jax.__version__,
        # the methods' unroll=None choice (AbstractMetaMethod.unroll): 1 on CPU, 8 elsewhere
        "unroll": min(method.unroll or (1 if jax.default_backend() == "cpu" else 8), method.steps),
    }
    if isinstance(method, (amaml.AdjointMAML, amaml.DiscreteAdjoint)):  # what checkpointing costs
        result["checkpointing"] = amaml.checkpoint_plan(method, params, tasks).description
    elif hasattr(method, "description"):  # the diffrax comparison
        result["checkpointing"] = method.description
    if estimate is not None and estimate > args.memory_limit_gb * 2**30:
        return {
            **result,
            "status": "oom",
            "reason": f"XLA plans {estimate / 2**30:.1f} GiB > {args.memory_limit_gb} GiB",
        }
    print(json.dumps({**result, "status": "planned"}), flush=True)
    try:
        params, opt_state, value, _ = compiled(params, opt_state, tasks)  # warm-up
        jax.block_until_ready(value)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            params, opt_state, value, _ = compiled(params, opt_state, tasks)
            jax.block_until_ready(value)
            times.append(time.perf_counter() - start)
    except Exception as error:  # XLA reports device OOM as a runtime error
        if "RESOURCE_EXHAUSTED" in str(error) or "out of memory" in str(error).lower():
            return {**result, "status": "oom", "reason": str(error).splitlines()[0][:200]}
        raise
    stats = jax.devices()[0].memory_stats() or {}
    return {
        **result,
        "status": "ok",
        "seconds": statistics.median(times),
        "finite": bool(jnp.isfinite(value)),
        "peak_rss_bytes": peak_rss_bytes(),
        "device_peak_bytes": stats.get("peak_bytes_in_use"),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--method", required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--data", required=True, help="workload .npz written by `amaml bench`")
    parser.add_argument("--step-size", type=float, default=0.01)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--memory-limit-gb", type=float, default=16.0)
    parser.add_argument("--unroll", type=int, default=0, help="steps per scan iteration (0: by backend)")
    parser.add_argument(
        "--devices",
        type=int,
        default=0,
        help="split the meta-batch over this many devices (0: plain single-device jit)",
    )
    parser.add_argument("--grad-out", help="also save the meta-gradient at the workload's parameters (.npy)")
    parser.add_argument("--flops", action="store_true", help="then also count XLA's FLOPs of the meta-update")
    args = parser.parse_args(argv)
    result = measure(args)
    if args.flops and result["status"] == "ok":  # `amaml throughput`: after the timing, so as not to disturb it
        from ._throughput import fitted_flops

        result["flops"] = fitted_flops(args.data, args.method, args.steps, args.dtype, args.step_size)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
