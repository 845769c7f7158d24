"""Time and memory per meta-update against K, each point measured in a fresh process."""

from __future__ import annotations

import dataclasses
import json
import logging
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .._registry import Registry
from ._bench_compare import AbstractComparison, worker_command
from ._bench_worker import BENCH_METHODS, PAPER_METHODS

log = logging.getLogger("amaml")
CONV4_BLOCKS = 4


@dataclasses.dataclass(frozen=True)
class Workload:
    """What one benchmark measures: a model, a meta-batch of tasks, the K values and methods.

    ``model="mlp"`` (the default): meta-batch ``batch`` of regression tasks with ``points``
    support and ``points`` query points each in [-1, 1]^dim, an MLP ``dim -> width -> width
    -> 1`` (tanh), half mean squared error.

    ``model="conv4"``: meta-batch ``batch`` of ``ways``-way episodes with ``points`` support
    and ``points`` query images per class (standard normal pixels of shape ``image``, labels
    ``0 .. ways - 1``; synthetic, for timing only), :class:`amaml.models.Conv4` with ``width``
    filters and 4 blocks (transductive batch norm), mean cross-entropy.

    Args:
        name: the workload's name (the key in :data:`WORKLOADS`, and the report's).
        points: support (and query) points per task; for ``conv4``, images per class.
        width: the MLP's hidden width, or Conv4's filters.
        steps: the inner steps K measured.
        methods: the benchmark methods measured (``amaml list``).
        batch: tasks per meta-update.
        dim: the MLP's input dimension.
        model: ``"mlp"`` or ``"conv4"``.
        ways: classes per episode (``conv4`` only, at least 1).
        image: ``(height, width, channels)`` of a ``conv4`` image.

    Raises:
        ValueError: for an unknown ``model``, or a ``conv4`` workload with ``ways`` below 1.

    Example:
        >>> from amaml.experiments import WORKLOADS, Workload
        >>> WORKLOADS["paper"].description
        'meta-batch 5, MLP 2-32-32-1 tanh, 50 points per set'
        >>> Workload("tiny", points=4, width=8, steps=(1, 10), methods=("MAML",)).description
        'meta-batch 5, MLP 2-8-8-1 tanh, 4 points per set'
    """

    name: str
    points: int
    width: int
    steps: tuple[int, ...]
    methods: tuple[str, ...]
    batch: int = 5
    dim: int = 2
    model: str = "mlp"
    ways: int = 0
    image: tuple[int, int, int] = (28, 28, 1)

    def __post_init__(self) -> None:
        if self.model not in ("mlp", "conv4"):
            raise ValueError(f"`model` must be 'mlp' or 'conv4', got {self.model!r}.")
        if self.model == "conv4" and self.ways < 1:
            raise ValueError(f"a conv4 workload needs `ways` >= 1 classes per episode, got {self.ways}.")

    @property
    def description(self) -> str:
        """The model and the tasks in words, for a report."""
        if self.model == "conv4":
            height, width, channels = self.image
            return (
                f"meta-batch {self.batch}, Conv4 {self.width} filters x 4 blocks, {self.ways}-way {self.points}-shot, "
                f"{self.points} queries per class, {height}x{width}x{channels} images"
            )
        return f"meta-batch {self.batch}, MLP {self.dim}-{self.width}-{self.width}-1 tanh, {self.points} points per set"

    def write(self, path: Path, dtype: str, seed: int = 0) -> None:
        """Write the workload's parameters (flat, in amaml's order) and tasks to the ``.npz`` file ``path``.

        Args:
            path: the file to write (``np.savez``: a ``.npz`` suffix is added when missing).
            dtype: the numpy dtype name of every floating array (``"float32"`` or ``"float64"``).
            seed: the numpy seed of the parameters and the tasks (the same seed, the same file).
        """
        if self.model == "conv4":
            self._write_conv4(path, dtype, seed)
            return
        rng = np.random.default_rng(seed)
        sizes = [self.dim, self.width, self.width, 1]
        # flat parameters in amaml's order: per layer the bias, then the weight
        theta = np.concatenate(
            [
                np.concatenate([np.zeros(fo), rng.normal(0, 1 / np.sqrt(fi), fi * fo)])
                for fi, fo in zip(sizes[:-1], sizes[1:])
            ]
        ).astype(dtype)
        x = rng.uniform(-1, 1, (self.batch, 2 * self.points, self.dim)).astype(dtype)
        y = (np.sin(3 * x).sum(-1, keepdims=True) + 0.1 * rng.normal(size=(self.batch, 2 * self.points, 1))).astype(
            dtype
        )
        np.savez(
            path,
            theta=theta,
            sizes=np.array(sizes),
            support_x=x[:, : self.points],
            support_y=y[:, : self.points],
            query_x=x[:, self.points :],
            query_y=y[:, self.points :],
        )

    def _write_conv4(self, path: Path, dtype: str, seed: int) -> None:
        rng = np.random.default_rng(seed)
        channels, filters, blocks = self.image[2], self.width, CONV4_BLOCKS
        # flat parameters in amaml's order (ravel_pytree: sorted dict keys, list order): "blocks", each
        # {"b", "offset", "scale", "w" (3, 3, in, filters), He normal}, then "head" {"b", "w" (filters, ways)}
        parts = []
        for i in range(blocks):
            fan_in = 9 * (channels if i == 0 else filters)
            parts += [np.zeros(filters), np.zeros(filters), np.ones(filters)]
            parts.append(rng.normal(0, np.sqrt(2 / fan_in), fan_in * filters))
        parts += [np.zeros(self.ways), rng.normal(0, 1 / np.sqrt(filters), filters * self.ways)]
        theta = np.concatenate(parts).astype(dtype)
        n = self.ways * self.points
        x = rng.normal(size=(self.batch, 2 * n, *self.image)).astype(dtype)
        labels = np.tile(np.repeat(np.arange(self.ways, dtype=np.int32), self.points), (self.batch, 1))
        np.savez(
            path,
            theta=theta,
            model=np.array("conv4"),
            conv4=np.array([channels, filters, blocks, self.ways]),
            support_x=x[:, :n],
            support_y=labels,
            query_x=x[:, n:],
            query_y=labels,
        )


ALL_STEPS = (1, 10, 20, 50, 100, 200, 300, 500, 1000)
CONV4_STEPS = (1, 10, 100, 1000)
CONV4_METHODS = ("MAML", "discrete adjoint", "A-MAML", "FOMAML")
WORKLOADS: Registry[Workload] = Registry(
    "workload",
    {
        "paper": Workload("paper", 50, 32, ALL_STEPS, PAPER_METHODS),
        "paper100": Workload("paper100", 100, 32, ALL_STEPS, PAPER_METHODS),
        "wide": Workload("wide", 50, 512, (10, 100, 1000), ("A-MAML", "discrete adjoint", "MAML", "FOMAML")),
        # Omniglot-shaped 20-way 5-shot episodes, 5 queries per class: one task, and MAML's meta-batch of 16
        **{
            f"conv4-omniglot-20w5s{suffix}": Workload(
                f"conv4-omniglot-20w5s{suffix}", 5, 64, CONV4_STEPS, CONV4_METHODS, batch=batch, model="conv4", ways=20
            )
            for suffix, batch in (("", 1), ("-b16", 16))
        },
    },
)
"""Workload name -> :class:`Workload` of ``amaml bench`` (paper, paper100, wide, conv4-omniglot-20w5s[-b16])."""
BENCH_METHOD_NAMES: Registry[str] = Registry("benchmark method", {m: m for m in BENCH_METHODS})


def bench_workloads(
    names: list[str],
    steps: list[int] | None = None,
    methods: list[str] | None = None,
    comparisons: Sequence[AbstractComparison] = (),
) -> list[Workload]:
    """The workloads to measure, with their K values and methods replaced where given.

    Args:
        names: workload names (:data:`WORKLOADS`).
        steps: the K values to measure instead of each workload's.
        methods: benchmark methods to measure instead of each workload's.
        comparisons: other implementations to time beside them (:data:`COMPARISONS`); each
            checks that it can run here and on these workloads.

    Returns:
        The :class:`Workload` of each name, in order, with ``steps`` and ``methods`` replaced
        where given.

    Raises:
        ValueError: for an unknown workload or method, a K below 1, or a comparison that
            cannot run (its package missing, a model it does not implement).

    Example:
        >>> from amaml.experiments import bench_workloads
        >>> workloads = bench_workloads(["paper", "wide"], steps=[1, 10], methods=["MAML", "A-MAML"])
        >>> for workload in workloads:
        ...     print(workload.name, workload.steps, workload.methods)
        paper (1, 10) ('MAML', 'A-MAML')
        wide (1, 10) ('MAML', 'A-MAML')
    """
    workloads = [WORKLOADS.lookup(name) for name in names]
    if steps:
        if any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in steps):
            raise ValueError(f"`steps` must be positive integers, got {steps!r}.")
        workloads = [dataclasses.replace(w, steps=tuple(steps)) for w in workloads]
    if methods:
        for method in methods:
            BENCH_METHOD_NAMES.lookup(method)
        workloads = [dataclasses.replace(w, methods=tuple(methods)) for w in workloads]
    for comparison in comparisons:
        comparison.require(workloads)
    return workloads


def bench_jobs(workload: Workload, comparisons: Sequence[AbstractComparison] = ()) -> list[tuple[str, int]]:
    """The ``(method, K)`` points of one workload: its methods, then each comparison's rows (once each)."""
    methods = list(dict.fromkeys([*workload.methods, *(m for c in comparisons for m in c.methods)]))
    # K-major: the methods of one K run back to back, so a drift in the machine's load hits them alike
    return [(m, k) for k in workload.steps for m in methods if not (m == "MAML-1" and k != 1)]


def bench_points(workloads: list[Workload], comparisons: Sequence[AbstractComparison] = ()) -> int:
    """How many measurements :func:`run_bench` makes (for a progress bar)."""
    return sum(len(bench_jobs(w, comparisons)) for w in workloads)


def _worker(command: list[str], timeout: float, env: dict[str, str] | None = None) -> dict:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as stopped:  # keep the compiled plan the worker printed, if it got that far
        output = stopped.stdout.decode() if isinstance(stopped.stdout, bytes) else stopped.stdout or ""
        planned = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        return {**(planned[-1] if planned else {}), "status": "timeout", "reason": f"over {timeout:.0f} s"}
    if done.returncode != 0:
        killed = done.returncode < 0 or done.returncode == 137
        tail = (done.stderr.strip().splitlines() or ["?"])[-1][:200]
        return {"status": "oom" if killed else "error", "reason": f"exit {done.returncode}: {tail}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_bench(
    workloads: list[Workload],
    dtype: str,
    repeats: int,
    comparisons: Sequence[AbstractComparison],
    timeout: float,
    memory_limit_gb: float,
    progress=None,
    unroll: int = 0,
) -> dict:
    """Measure every (workload, method, K), each in a fresh process.

    Args:
        workloads: what :func:`bench_workloads` returned.
        dtype: ``"float32"`` or ``"float64"``.
        repeats: timed meta-updates per point (the median is reported).
        comparisons: other implementations timed beside amaml's; each adds its rows and its
            same-gradient checks.
        timeout: seconds per point.
        memory_limit_gb: a point whose compiled plan exceeds this is reported OOM, not run.
        progress: called with a label before each point.
        unroll: scan steps per loop iteration (0: by backend).

    Returns:
        ``{"rows": [...], "checks": [...], "comparisons": [names]}``: one row per point and one
        check per pair of implementations compared, each with its workload.

    Example:
        >>> from amaml.experiments import bench_workloads, run_bench
        >>> workloads = bench_workloads(["paper"], steps=[1, 10], methods=["MAML", "A-MAML"])
        >>> result = run_bench(workloads, "float32", 3, (), 300.0, 8.0)  # 4 processes  # doctest: +SKIP
        >>> [(r["method"], r["steps"], r["status"]) for r in result["rows"]]  # doctest: +SKIP
        [('MAML', 1, 'ok'), ('MAML', 10, 'ok'), ('A-MAML', 1, 'ok'), ('A-MAML', 10, 'ok')]
    """
    rows, checks = [], []
    extra = ("--memory-limit-gb", str(memory_limit_gb), "--unroll", str(unroll))
    owners = {m: c for c in comparisons for m in c.methods}  # who measures each comparison row
    with tempfile.TemporaryDirectory() as tmp:
        for workload in workloads:
            data = Path(tmp) / f"{workload.name}.npz"
            workload.write(data, dtype)
            for method, steps in bench_jobs(workload, comparisons):
                if progress:
                    progress(f"{workload.name}: {method} K={steps}")
                if method in owners:
                    command = owners[method].command(method, steps, data, repeats, dtype, extra)
                else:
                    command = worker_command(method, steps, data, repeats, dtype, *extra)
                result = _worker(command, timeout)
                rows.append({"workload": workload.name, "method": method, "steps": steps, **result})
                log.debug("%s", rows[-1])
            for comparison in comparisons:
                checks += [{"workload": workload.name, **row} for row in comparison.check(data, dtype)]
    return {"rows": rows, "checks": checks, "comparisons": [c.name for c in comparisons]}
