"""Time and memory per meta-update against K, each point measured in a fresh process."""

from __future__ import annotations

import dataclasses
import json
import logging
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from ._bench_worker import BENCH_METHODS
from .._registry import Registry
from ._report import atomic_write_figure, atomic_write_text

log = logging.getLogger("amaml")
TORCH_SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "torch_amaml.py"
TORCH_METHOD = "PyTorch A-MAML rk4/euler (authors' style)"
SAME_ALGORITHM = "A-MAML rk4/euler stored"


@dataclasses.dataclass(frozen=True)
class Workload:
    """Meta-batch ``batch`` of tasks with ``points`` support and query points each, an MLP
    ``dim -> width -> width -> 1`` (tanh), inputs in [-1, 1]^dim."""

    name: str
    points: int
    width: int
    steps: tuple[int, ...]
    methods: tuple[str, ...]
    batch: int = 5
    dim: int = 2

    def write(self, path: Path, dtype: str, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        sizes = [self.dim, self.width, self.width, 1]
        # flat parameters in amaml's order: per layer the bias, then the weight
        theta = np.concatenate([
            np.concatenate([np.zeros(fo), rng.normal(0, 1 / np.sqrt(fi), fi * fo)])
            for fi, fo in zip(sizes[:-1], sizes[1:])
        ]).astype(dtype)
        x = rng.uniform(-1, 1, (self.batch, 2 * self.points, self.dim)).astype(dtype)
        y = (np.sin(3 * x).sum(-1, keepdims=True) + 0.1 * rng.normal(size=(self.batch, 2 * self.points, 1))).astype(dtype)
        np.savez(path, theta=theta, sizes=np.array(sizes), support_x=x[:, : self.points],
                 support_y=y[:, : self.points], query_x=x[:, self.points :], query_y=y[:, self.points :])


ALL_STEPS = (1, 10, 20, 50, 100, 200, 300, 500, 1000)
WORKLOADS: Registry[Workload] = Registry("workload", {
    "paper": Workload("paper", 50, 32, ALL_STEPS, BENCH_METHODS),
    "paper100": Workload("paper100", 100, 32, ALL_STEPS, BENCH_METHODS),
    "wide": Workload("wide", 50, 512, (10, 100, 1000), ("A-MAML", "discrete adjoint", "MAML", "FOMAML")),
})
BENCH_METHOD_NAMES: Registry[str] = Registry("benchmark method", {m: m for m in BENCH_METHODS})


def bench_workloads(names: list[str], steps: list[int] | None = None, methods: list[str] | None = None,
                    against_torch: bool = False) -> list[Workload]:
    """The workloads to measure, with their K values and methods replaced where given.

    Raises:
        ValueError: for an unknown workload or method, a K below 1, or ``against_torch``
            without PyTorch or without the source checkout's comparison script.
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
    if against_torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            raise ValueError("the PyTorch comparison needs PyTorch: pip install -e '.[bench-torch]'.") from None
        if not TORCH_SCRIPT.exists():
            raise ValueError(f"the PyTorch comparison needs the source checkout's {TORCH_SCRIPT}.")
    return workloads


def bench_points(workloads: list[Workload], against_torch: bool) -> int:
    """How many measurements :func:`run_bench` makes (for a progress bar)."""
    return sum(len(w.steps) * (len(w.methods) + against_torch) for w in workloads)


def worker_command(method: str, steps: int, data: Path, repeats: int, dtype: str, *extra: str) -> list[str]:
    """The command line of one fresh `amaml.experiments._bench_worker` measurement (``extra``: more flags)."""
    return [sys.executable, "-m", "amaml.experiments._bench_worker", "--method", method, "--steps", str(steps),
            "--data", str(data), "--repeats", str(repeats), "--dtype", dtype, *extra]


def _worker(command: list[str], timeout: float, env: dict[str, str] | None = None) -> dict:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "reason": f"over {timeout:.0f} s"}
    if done.returncode != 0:
        killed = done.returncode < 0 or done.returncode == 137
        tail = (done.stderr.strip().splitlines() or ["?"])[-1][:200]
        return {"status": "oom" if killed else "error", "reason": f"exit {done.returncode}: {tail}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_bench(workloads: list[Workload], dtype: str, repeats: int, against_torch: bool, timeout: float,
              memory_limit_gb: float, progress=None, unroll: int = 0) -> dict:
    """Measure every (workload, method, K); returns ``{"rows": [...], "checks": {...}}``."""
    rows, checks = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for workload in workloads:
            data = Path(tmp) / f"{workload.name}.npz"
            workload.write(data, dtype)
            jobs = [(m, k) for k in workload.steps for m in workload.methods if not (m == "MAML-1" and k != 1)]
            if against_torch:
                jobs += [(TORCH_METHOD, k) for k in workload.steps]
            for method, steps in jobs:
                if progress:
                    progress(f"{workload.name}: {method} K={steps}")
                if method == TORCH_METHOD:
                    command = [sys.executable, str(TORCH_SCRIPT), "--data", str(data), "--steps", str(steps),
                               "--repeats", str(max(1, min(repeats, 3)))]
                else:
                    command = worker_command(method, steps, data, repeats, dtype,
                                             "--memory-limit-gb", str(memory_limit_gb), "--unroll", str(unroll))
                result = _worker(command, timeout)
                rows.append({"workload": workload.name, "method": method, "steps": steps, **result})
                log.debug("%s", rows[-1])
            if against_torch:
                checks[workload.name] = gradient_check(data, dtype)
    return {"rows": rows, "checks": checks}


def gradient_check(data: Path, dtype: str, steps: int = 10) -> dict:
    """Relative difference of the PyTorch and amaml meta-gradients on the same workload."""
    with tempfile.TemporaryDirectory() as tmp:
        torch_grad, jax_grad = Path(tmp) / "torch.npy", Path(tmp) / "jax.npy"
        subprocess.run([sys.executable, str(TORCH_SCRIPT), "--data", str(data), "--steps", str(steps),
                        "--repeats", "1", "--grad-out", str(torch_grad)], check=True, capture_output=True)
        subprocess.run(worker_command(SAME_ALGORITHM, steps, data, 1, dtype, "--grad-out", str(jax_grad)),
                       check=True, capture_output=True)
        a, b = np.load(torch_grad), np.load(jax_grad)
    return {"steps": steps, "relative_difference": float(np.linalg.norm(a - b) / np.linalg.norm(b)), "dtype": dtype}


def _cell(row: dict | None, key: str, scale: float, fmt: str) -> str:
    if row is None:
        return ""
    if row.get("status") != "ok":
        return row.get("status", "?").upper()
    value = row.get(key)
    return "" if value is None else format(value * scale, fmt)


def markdown(result: dict, header_text: str, dtype: str) -> str:
    rows = result["rows"]
    parts = [header_text, f"\nEach cell is one fresh process; {dtype}; seconds are the median of repeated "
             "jitted meta-updates (optimiser included), compile time excluded and listed separately. "
             "Peak RSS is the whole process (Python, XLA, data); compiled MB is XLA's own plan for "
             "the meta-update (temporaries, arguments, outputs). OOM: the plan exceeds the memory "
             "limit, or the process was killed.\n"]
    for workload in dict.fromkeys(r["workload"] for r in rows):
        wrows = [r for r in rows if r["workload"] == workload]
        steps = sorted({r["steps"] for r in wrows})
        methods = list(dict.fromkeys(r["method"] for r in wrows))
        spec = WORKLOADS.get(workload)
        desc = f" (meta-batch {spec.batch}, MLP {spec.dim}-{spec.width}-{spec.width}-1 tanh, {spec.points} points per set)" if spec else ""
        for title, key, scale, fmt in (("milliseconds per meta-update", "seconds", 1e3, ".1f"),
                                       ("compile seconds", "compile_seconds", 1, ".1f"),
                                       ("peak RSS, MB", "peak_rss_bytes", 2**-20, ".0f"),
                                       ("compiled memory plan, MB", "compiled_bytes", 2**-20, ".1f"),
                                       ("device peak bytes in use, MB", "device_peak_bytes", 2**-20, ".1f")):
            if not any(r.get(key) is not None for r in wrows):
                continue
            parts.append(f"\n### {workload}{desc}: {title}\n\n| method | " + " | ".join(f"K={k}" for k in steps)
                         + " |\n|---|" + "---|" * len(steps) + "\n")
            for method in methods:
                cells = [_cell(next((r for r in wrows if r["method"] == method and r["steps"] == k), None), key, scale, fmt)
                         for k in steps]
                parts.append(f"| {method} | " + " | ".join(cells) + " |\n")
        schemes = {(r["method"], r["steps"]): r["checkpointing"] for r in wrows if r.get("checkpointing")}
        recomputing = {key: text for key, text in schemes.items() if not text.startswith("stores")}
        if recomputing:
            parts.append(f"\n{workload}: checkpointing by default (the time above includes its recomputation):\n\n"
                         + "".join(f"- {m}, K={k}: {text}\n" for (m, k), text in sorted(recomputing.items())))
        torch_rows = {r["steps"]: r for r in wrows if r["method"] == TORCH_METHOD and r.get("status") == "ok"}
        if torch_rows:
            parts.append(f"\n### {workload}: PyTorch / amaml time ratio (higher: amaml faster)\n\n| amaml method | "
                         + " | ".join(f"K={k}" for k in sorted(torch_rows)) + " |\n|---|" + "---|" * len(torch_rows) + "\n")
            for method in ("A-MAML", SAME_ALGORITHM, "A-MAML euler/euler"):
                cells = []
                for k in sorted(torch_rows):
                    mine = next((r for r in wrows if r["method"] == method and r["steps"] == k and r.get("status") == "ok"), None)
                    cells.append(f"{torch_rows[k]['seconds'] / mine['seconds']:.0f}x" if mine else "")
                parts.append(f"| {method} | " + " | ".join(cells) + " |\n")
            check = result["checks"].get(workload)
            if check:
                parts.append(f"\nSame meta-gradient: PyTorch vs `{SAME_ALGORITHM}` at K={check['steps']}, "
                             f"relative difference {check['relative_difference']:.1e} ({check['dtype']}).\n")
    return "".join(parts)


def plot(result: dict, out: Path) -> list[Path]:
    """One PNG per workload: time and peak memory against K; out-of-memory points marked OOM."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    rows = result["rows"]
    for workload in dict.fromkeys(r["workload"] for r in rows):
        wrows = [r for r in rows if r["workload"] == workload]
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for method in dict.fromkeys(r["method"] for r in wrows):
            ok = sorted((r for r in wrows if r["method"] == method and r.get("status") == "ok"), key=lambda r: r["steps"])
            oom = [r["steps"] for r in wrows if r["method"] == method and r.get("status") == "oom"]
            if not ok:
                continue
            ks = [r["steps"] for r in ok]
            memory_key = "device_peak_bytes" if ok[0].get("device_peak_bytes") else "peak_rss_bytes"
            (line,) = axes[0].plot(ks, [r["seconds"] for r in ok], marker="o", label=method)
            axes[1].plot(ks, [r[memory_key] / 2**20 for r in ok], marker="o", label=method)
            for ax in axes:  # out of memory: an x at the top edge, so the point is shown, not dropped
                ax.plot(oom, [0.97] * len(oom), marker="x", ms=9, ls="", color=line.get_color(),
                        transform=ax.get_xaxis_transform())
                for k in oom:
                    ax.annotate("OOM", (k, 0.97), xycoords=ax.get_xaxis_transform(), xytext=(-7, -3),
                                textcoords="offset points", ha="right", fontsize=7, color=line.get_color())
        axes[0].set(xscale="log", yscale="log", xlabel="inner steps K", ylabel="seconds per meta-update", title=f"{workload}: time")
        axes[1].set(xscale="log", xlabel="inner steps K", ylabel="peak memory, MB", title=f"{workload}: memory")
        for ax in axes:
            ax.grid(alpha=0.3)
        if axes[0].lines:
            axes[0].legend(fontsize=7, frameon=False)
        fig.tight_layout()
        path = out / f"{workload}.png"
        atomic_write_figure(path, fig, dpi=100)
        paths.append(path)
    return paths


def write_outputs(result: dict, out: Path, header_text: str, dtype: str) -> Path:
    """Write ``bench.json``, ``bench.md`` (tables under ``header_text``) and one PNG per workload.

    Args:
        result: what :func:`run_bench` returned.
        out: the output directory (created if needed).
        header_text: the report header (:func:`amaml.experiments.header`).
        dtype: the dtype measured, for the table's caption.

    Returns:
        The path of ``bench.md``.
    """
    atomic_write_text(out / "bench.json", json.dumps(result, indent=1) + "\n")
    plot(result, out)
    path = out / "bench.md"
    atomic_write_text(path, markdown(result, header_text, dtype))
    return path
