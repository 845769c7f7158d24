"""`amaml throughput`: meta-updates and tasks per second against the meta-batch size, GFLOP/s against width.

Two sweeps over the paper's workload (MLP 2-W-W-1 tanh, 50 support and 50 query points per task),
each point a fresh `amaml.experiments._bench_worker` process: the meta-batch size B at width 32,
beside the authors'-style PyTorch loop in ``benchmarks/`` (the algorithm of ``"A-MAML rk4/euler
stored"``, one task at a time, so linear in B); and the width W at a fixed meta-batch, where the
work becomes matmul-bound, beside the float32 matmul peak measured in a fresh process in the same run.

The FLOPs are XLA's own count (``compiled.cost_analysis()``), not a formula. XLA counts a while
loop's body once, whatever its trip count, so :func:`fitted_flops` counts the same meta-update
compiled with every inner step unrolled at a few small K, fits ``a + b K`` and extrapolates
(in the worker that timed the update, after timing it: ``_bench_worker --flops``).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .. import _validate
from ._bench import BENCH_METHOD_NAMES, WORKLOADS, _worker, bench_workloads
from ._bench_compare import SAME_ALGORITHM, TORCH_METHOD, TorchComparison, torch_command, worker_command

log = logging.getLogger("amaml")
DTYPE = "float32"  # the peak is a float32 matmul, so both sweeps are float32
# XLA's count is linear in K only from K = 4 on: at width 16 (A-MAML rk4/euler stored, 3 tasks, 10 points)
# K = 1, 2, 3 count 0.72, 1.77, 2.05 MFLOP, then each step adds 0.444 (MAML and A-MAML bend at K = 3 too):
# a line through K = 2 and 3 is 15% low at K = 6. A third point measures how straight the line is.
FIT_STEPS = (4, 5, 6)
PEAK_SIZE = 2048  # a float32 matmul that is compute-bound on CPUs: 17 GFLOP on 48 MiB of operands


def _sizes(name: str, values, required: bool = True) -> list[int]:
    if required and not values:
        raise ValueError(f"`{name}` must list at least one value.")
    sizes = [_validate.positive_int(name, v) for v in values]
    if len(set(sizes)) != len(sizes):
        raise ValueError(f"`{name}` must not repeat a value, got {sizes}.")
    return sizes


def check_throughput(
    batches: list[int],
    widths: list[int],
    methods: list[str] | None = None,
    steps: int = 50,
    width_batch: int = 5,
    repeats: int = 5,
    timeout: float = 900.0,
    torch_batches: list[int] | None = None,
    prefix: str = "",
) -> int:
    """Check :func:`run_throughput`'s arguments before any work.

    Args:
        batches, widths, methods, steps, width_batch, repeats, timeout, torch_batches: as for
            :func:`run_throughput`.
        prefix: ``"--"`` to name the arguments as flags in errors (``--width-batch``).

    Returns:
        How many measurements :func:`run_throughput` makes (for a progress bar).

    Raises:
        ValueError, TypeError: for an empty list, a repeated or non-positive size, an unknown
            method, a ``torch_batches`` entry not in ``batches``, or PyTorch asked for and missing.
    """

    def name(argument: str) -> str:
        return prefix + argument.replace("_", "-") if prefix else argument

    batches = _sizes(name("batches"), batches)
    _sizes(name("widths"), widths)
    if methods is not None and not methods:
        raise ValueError(f"`{name('methods')}` must list at least one benchmark method.")
    for method in methods or ():
        BENCH_METHOD_NAMES.lookup(method)
    for argument, value in (("steps", steps), ("width_batch", width_batch), ("repeats", repeats)):
        _validate.positive_int(name(argument), value)
    _validate.positive_float(name("timeout"), timeout)
    torch = batches if torch_batches is None else _sizes(name("torch_batches"), torch_batches, required=False)
    stray = [b for b in torch if b not in batches]
    if stray:
        raise ValueError(f"`{name('torch_batches')}` must be among the batches {batches}; not {stray}.")
    if torch:  # the same check, with the same message, as `amaml bench --against torch`
        bench_workloads(["paper"], comparisons=[TorchComparison()])
    count = len(methods or (SAME_ALGORITHM,))
    return count * len(batches) + len(torch) + bool(torch) + 1 + count * len(widths)


def run_throughput(
    batches: list[int],
    widths: list[int],
    methods: list[str] | None = None,
    steps: int = 50,
    width_batch: int = 5,
    repeats: int = 5,
    timeout: float = 900.0,
    torch_batches: list[int] | None = None,
    progress=None,
    peak_size: int = PEAK_SIZE,
) -> dict:
    """Time the meta-update against the meta-batch size and against the width, each point in a fresh process.

    Args:
        batches: meta-batch sizes of the first sweep (the paper workload, width 32).
        widths: MLP widths of the second sweep, at meta-batch ``width_batch``.
        methods: benchmark methods (``amaml list``); default ``"A-MAML rk4/euler stored"``, the
            PyTorch script's algorithm.
        steps: inner steps K of every point.
        width_batch: the meta-batch of the width sweep.
        repeats: timed meta-updates per point (the median is kept; PyTorch: at most 3).
        timeout: seconds per point.
        torch_batches: the batches at which the PyTorch loop is timed too (default all; ``[]``: none).
        progress: ``progress(text)``, called before each measurement.
        peak_size: the side of the float32 matmul whose GFLOP/s is the machine's peak.

    Returns:
        ``{"batch_rows": [...], "width_rows": [...], "peak": {...}, "gradient_check": {...}, ...}``;
        every row holds its worker's result (``status``, ``seconds``, ...) and the rates.

    Raises:
        ValueError, TypeError: as :func:`check_throughput`, before any measurement.

    Example:
        >>> from amaml.experiments import run_throughput
        >>> result = run_throughput([1, 10], [32], steps=10, torch_batches=[])  # 4 processes  # doctest: +SKIP
        >>> [(r["batch"], r["status"]) for r in result["batch_rows"]]  # doctest: +SKIP
        [(1, 'ok'), (10, 'ok')]
        >>> run_throughput([1, 10, 10], [32])  # checked before any work
        Traceback (most recent call last):
        ValueError: `batches` must not repeat a value, got [1, 10, 10].
    """
    check_throughput(batches, widths, methods, steps, width_batch, repeats, timeout, torch_batches)
    _validate.positive_int("peak_size", peak_size)
    methods = list(methods or (SAME_ALGORITHM,))
    torch_batches = list(batches if torch_batches is None else torch_batches)
    base, progress = WORKLOADS["paper"], progress or (lambda text: None)

    def point(text: str, command: list[str]) -> dict:
        progress(text)
        row = {"load_before": os.getloadavg()[0], **_worker(command, timeout)}  # load: other jobs, as context
        log.debug("%s: %s", text, row)
        return row

    result = {"workload": dataclasses.asdict(base), "methods": methods, "steps": steps, "dtype": DTYPE}
    result |= {"repeats": repeats, "width_batch": width_batch, "batch_rows": [], "width_rows": []}
    with tempfile.TemporaryDirectory() as tmp:
        for batch in batches:
            data = Path(tmp) / f"batch{batch}.npz"
            dataclasses.replace(base, batch=batch).write(data, DTYPE)
            for method in methods:
                row = point(f"B={batch}: {method}", worker_command(method, steps, data, repeats, DTYPE))
                result["batch_rows"].append({"batch": batch, "method": method, **row})
            if batch in torch_batches:
                row = point(f"B={batch}: PyTorch", torch_command(data, steps, min(repeats, 3)))
                result["batch_rows"].append({"batch": batch, "method": TORCH_METHOD, **row})
        if torch_batches:  # that the two sides time the same algorithm: the same meta-gradient
            progress("PyTorch vs amaml meta-gradient")
            try:
                smallest = Path(tmp) / f"batch{min(torch_batches)}.npz"
                (result["gradient_check"],) = TorchComparison().check(smallest, DTYPE)
            except subprocess.CalledProcessError as error:
                reason = (error.stderr or b"?").decode(errors="replace").strip()[-200:]
                result["gradient_check"] = {"status": "error", "reason": reason}
        result["peak"] = point(f"{peak_size}x{peak_size} matmul", peak_command(peak_size, repeats))
        for width in widths:
            data = Path(tmp) / f"width{width}.npz"
            dataclasses.replace(base, batch=width_batch, width=width).write(data, DTYPE)
            for method in methods:
                row = point(f"W={width}: {method}", worker_command(method, steps, data, repeats, DTYPE, "--flops"))
                result["width_rows"].append({"width": width, "method": method, **row})
    return add_rates(result)


def add_rates(result: dict) -> dict:
    """Add to every measured row its rates: per meta-update, per task and, beside PyTorch, the
    per-task ratio; with the FLOPs and the peak, the GFLOP/s and their fraction of the peak."""
    rows = result["batch_rows"]
    for row in rows:
        if row.get("status") == "ok":
            row["updates_per_second"] = 1 / row["seconds"]
            row["tasks_per_second"] = row["batch"] / row["seconds"]
            row["ms_per_task"] = 1e3 * row["seconds"] / row["batch"]
    torch = {r["batch"]: r for r in rows if r["method"] == TORCH_METHOD and r.get("status") == "ok"}
    for row in rows:
        if row["method"] != TORCH_METHOD and "ms_per_task" in row:
            if row["batch"] in torch:
                row["torch_ratio"] = torch[row["batch"]]["ms_per_task"] / row["ms_per_task"]
            elif torch:  # PyTorch's loop costs the same per task at any batch: its largest measured one
                row["torch_ratio_from_batch"] = largest = max(torch)
                row["torch_ratio"] = torch[largest]["ms_per_task"] / row["ms_per_task"]
    peak = result.get("peak", {}).get("gflops_per_second") if result.get("peak", {}).get("status") == "ok" else None
    for row in result["width_rows"]:
        if row.get("status") == "ok" and "flops" in row:
            row["gflops_per_second"] = row["flops"]["flops"] / row["seconds"] / 1e9
            if peak:
                row["fraction_of_peak"] = row["gflops_per_second"] / peak
    return result


def unrolled_flops(data: Path, method: str, steps: int, dtype: str = DTYPE, step_size: float = 0.01) -> dict:
    """XLA's FLOP count of the benchmark's jitted meta-update with all ``steps`` inner steps unrolled.

    Args:
        data: a workload file written by :meth:`Workload.write`.
        method: a benchmark method (``amaml list``).
        steps: inner steps K, all unrolled (``unroll=steps``).
        dtype: the workload's dtype (``"float64"`` needs ``jax_enable_x64``).
        step_size: the inner step size (it changes no count).

    Returns:
        ``{"flops": ..., "loops": ...}``: ``compiled.cost_analysis()["flops"]``, and whether a
        while loop is left in the program (then the count misses its trip count).
    """
    import jax
    import optax

    import amaml

    from ._bench_worker import build_method, load_workload

    params, tasks, loss = load_workload(data, dtype)
    meta, optimizer = build_method(method, steps, step_size, unroll=steps), optax.sgd(0.01)  # as the timed update
    update = jax.jit(lambda p, s, t: amaml.meta_train_step(meta, loss, optimizer, p, s, t))
    compiled = update.lower(params, optimizer.init(params), tasks).compile()
    loops = bool(re.search(r"\bwhile\(", compiled.as_text()))
    return {"flops": float(compiled.cost_analysis()["flops"]), "loops": loops}


def fitted_flops(
    data: Path, method: str, steps: int, dtype: str = DTYPE, step_size: float = 0.01, fit_steps=FIT_STEPS
) -> dict:
    """The meta-update's FLOPs at ``steps`` inner steps: ``a + b K`` fitted to :func:`unrolled_flops` at ``fit_steps``.

    Args:
        data, method, dtype, step_size: as for :func:`unrolled_flops`.
        steps: the K to extrapolate to; up to ``max(fit_steps)``, its own unrolled program is counted.
        fit_steps: the small K that are compiled unrolled and counted (at least 2).

    Returns:
        ``{"flops", "fit_steps", "fit_flops", "loops"}`` and, when extrapolated, the
        line's ``per_step`` b and ``fixed`` a, and ``residual``: the largest relative distance of a
        counted point from the line; ``loops``: whether a counted program kept a while loop.
    """
    exact = steps <= max(fit_steps)  # nothing to extrapolate
    fit_steps = [steps] if exact else list(fit_steps)
    counts = [unrolled_flops(data, method, k, dtype, step_size) for k in fit_steps]
    flops = [c["flops"] for c in counts]
    result = {"flops": flops[0], "fit_steps": fit_steps, "fit_flops": flops}
    result["loops"] = any(c["loops"] for c in counts)
    if not exact:
        per_step, fixed = np.polyfit(np.array(fit_steps, float), np.array(flops), 1)
        residual = max(abs(f - fixed - per_step * k) / f for k, f in zip(fit_steps, flops))
        result |= {"flops": float(fixed + per_step * steps), "per_step": float(per_step), "fixed": float(fixed)}
        result["residual"] = float(residual)
    return result


def matmul_peak(size: int = PEAK_SIZE, repeats: int = 5) -> dict:
    """The machine's measured float32 matmul peak: one jitted ``size x size`` matmul, median of ``repeats``.

    Args:
        size: the side of both square operands.
        repeats: timed products after one warm-up.

    Returns:
        ``{"status": "ok", "size", "seconds", "flops" (XLA's count), "gflops_per_second", "device"}``.
    """
    import jax
    import jax.numpy as jnp

    a, b = jax.random.normal(jax.random.key(0), (2, size, size), jnp.float32)
    compiled = jax.jit(jnp.matmul).lower(a, b).compile()
    flops = float(compiled.cost_analysis()["flops"])
    jax.block_until_ready(compiled(a, b))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(compiled(a, b))
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    result = {"status": "ok", "size": size, "seconds": seconds, "flops": flops, "device": jax.devices()[0].device_kind}
    return {**result, "gflops_per_second": flops / seconds / 1e9}


def peak_command(size: int, repeats: int) -> list[str]:
    """The command line of a fresh process that prints :func:`matmul_peak` as one JSON line."""
    program = "import json, sys; from amaml.experiments._throughput import matmul_peak; "
    program += "print(json.dumps(matmul_peak(int(sys.argv[1]), int(sys.argv[2]))))"
    return [sys.executable, "-c", program, str(size), str(repeats)]
