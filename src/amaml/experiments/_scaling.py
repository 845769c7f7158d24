"""`amaml scaling`: meta-updates per second against the number of devices a meta-batch is split over.

Each point is a fresh `amaml.experiments._bench_worker --devices D` process on the same workload
(fixed meta-batch, so D devices hold B / D tasks each). On a CPU-only machine the D devices
are simulated with ``XLA_FLAGS=--xla_force_host_platform_device_count=D``: they are threads
sharing the machine's cores, so the table measures the overhead and the parallelism XLA finds
on those cores, not what D real accelerators would give.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path

from .. import _validate
from ._bench import BENCH_METHOD_NAMES, WORKLOADS, _worker, worker_command
from ._report import atomic_write_figure, atomic_write_text


def device_env(devices: int) -> dict[str, str]:
    """The environment of a worker that should see at least ``devices`` CPU devices."""
    flags = os.environ.get("XLA_FLAGS", "")
    flags = " ".join(f for f in flags.split() if not f.startswith("--xla_force_host_platform_device_count"))
    return {**os.environ, "XLA_FLAGS": f"{flags} --xla_force_host_platform_device_count={devices}".strip()}


def check_scaling(
    workload_name: str, method: str, steps: int, batch: int, devices: list[int], repeats: int, prefix: str = ""
) -> None:
    """Check :func:`run_scaling`'s arguments (named ``prefix + name``, e.g. ``--batch``) before any work.

    Raises:
        ValueError, TypeError: for an unknown workload or method, non-positive sizes, or a
            meta-batch that some device count does not divide.
    """
    WORKLOADS.lookup(workload_name)
    BENCH_METHOD_NAMES.lookup(method)
    if not devices:
        raise ValueError(f"`{prefix}devices` must list at least one device count.")
    for name, value in (("batch", batch), ("steps", steps), ("repeats", repeats), *(("devices", d) for d in devices)):
        _validate.positive_int(prefix + name, value)
    uneven = [d for d in devices if batch % d]
    if uneven:
        raise ValueError(f"`{prefix}batch` ({batch}) must be a multiple of every device count; not of {uneven}.")


def run_scaling(
    workload_name: str,
    method: str,
    steps: int,
    batch: int,
    devices: list[int],
    dtype: str,
    repeats: int,
    timeout: float,
    progress=None,
) -> dict:
    """Seconds per meta-update for each device count; returns ``{"workload": ..., "rows": [...]}``.

    Each point is a fresh benchmark worker process splitting the fixed meta-batch over
    ``devices`` devices (on a CPU, simulated ones sharing its cores).

    Args:
        workload_name: a name of :data:`WORKLOADS`; its meta-batch is replaced by ``batch``.
        method: a benchmark method (``amaml list``).
        steps: inner steps K.
        batch: tasks per meta-update, a multiple of every device count.
        devices: the device counts measured, in order.
        dtype: ``"float32"`` or ``"float64"``.
        repeats: timed meta-updates per point (the median is kept).
        timeout: seconds per point.
        progress: called with a label before each point.

    Returns:
        ``{"workload", "method", "steps", "dtype", "rows"}``: one row per device count, with the
        worker's result (``status``, ``seconds``, ...), the load average before it and, where
        measured, ``updates_per_second``, ``speedup`` and ``efficiency``.

    Raises:
        ValueError: for an unknown workload or method, non-positive sizes, or a meta-batch
            that some device count does not divide; all before any measurement.

    Example:
        >>> from amaml.experiments import run_scaling
        >>> result = run_scaling("paper", "A-MAML", 10, 8, [1, 2], "float32", 3, 300.0)  # 2 processes  # doctest: +SKIP
        >>> [row["devices"] for row in result["rows"]]  # doctest: +SKIP
        [1, 2]
        >>> run_scaling("paper", "A-MAML", 10, 5, [1, 2], "float32", 3, 300.0)  # checked before any work
        Traceback (most recent call last):
        ValueError: `batch` (5) must be a multiple of every device count; not of [2].
    """
    check_scaling(workload_name, method, steps, batch, devices, repeats)
    workload = dataclasses.replace(WORKLOADS[workload_name], batch=batch, steps=(steps,), methods=(method,))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "workload.npz"
        workload.write(data, dtype)
        for count in devices:
            if progress:
                progress(f"{count} device(s)")
            command = worker_command(method, steps, data, repeats, dtype, "--devices", str(count))
            load = os.getloadavg()[0]  # other jobs on the machine, as context for the time
            rows.append({"devices": count, "load_before": load, **_worker(command, timeout, device_env(count))})
    return {
        "workload": dataclasses.asdict(workload),
        "method": method,
        "steps": steps,
        "dtype": dtype,
        "rows": add_rates(rows),
    }


def add_rates(rows: list[dict]) -> list[dict]:
    """Add updates per second, and with a 1-device row the speed-up ``t_1 / t_D`` and the
    efficiency ``t_1 / (D t_D)``, to every measured row."""
    base = next((r["seconds"] for r in rows if r.get("status") == "ok" and r["devices"] == 1), None)
    for row in rows:
        if row.get("status") == "ok":
            row["updates_per_second"] = 1 / row["seconds"]
            if base:
                row["speedup"] = base / row["seconds"]
                row["efficiency"] = row["speedup"] / row["devices"]
    return rows


def markdown(result: dict, header_text: str) -> str:
    w = result["workload"]
    lines = [
        header_text,
        f"\n{result['method']}, K = {result['steps']} inner steps, meta-batch {w['batch']} tasks "
        f"(fixed: D devices hold {w['batch']} / D each), MLP {w['dim']}-{w['width']}-{w['width']}-1 tanh, "
        f"{w['points']} support and {w['points']} query points per task, {result['dtype']}. Each row is a "
        "fresh process; seconds are the median of repeated jitted meta-updates (SGD, compile excluded and "
        "listed separately). Speed-up is relative to 1 device; efficiency is speed-up / D. Load: the machine's "
        "1-minute load average just before the point (other jobs included).\n",
        "\n| devices | ms per meta-update | meta-updates per second | speed-up | efficiency | compile s | load |",
        "\n|---|---|---|---|---|---|---|\n",
    ]
    for r in result["rows"]:
        if r.get("status") != "ok":
            lines.append(f"| {r['devices']} | {r.get('status', '?').upper()}: {r.get('reason', '')} | | | | | |\n")
            continue
        cells = [
            f"{r['seconds'] * 1e3:.1f}",
            f"{r['updates_per_second']:.2f}",
            f"{r['speedup']:.2f}x" if "speedup" in r else "",
            f"{r['efficiency']:.0%}" if "efficiency" in r else "",
            f"{r['compile_seconds']:.1f}",
            f"{r['load_before']:.1f}" if "load_before" in r else "",
        ]
        lines.append(f"| {r['devices']} | " + " | ".join(cells) + " |\n")
    if result["rows"] and result["rows"][0].get("device", "").lower().startswith("cpu"):
        lines.append(
            f"\nNote: on CPU the devices are simulated (`--xla_force_host_platform_device_count`); they "
            f"share this machine's {os.cpu_count()} cores, which other jobs may also be using, so "
            "more devices than cores cannot run faster and the numbers are noisy. They show that the "
            "sharded update runs and what it costs here, not how real accelerators would scale.\n"
        )
    return "".join(lines)


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in result["rows"] if r.get("status") == "ok"]
    fig, ax = plt.subplots(figsize=(5, 3.6))
    if ok:
        devices = [r["devices"] for r in ok]
        rates = [r["updates_per_second"] for r in ok]
        ax.plot(devices, rates, marker="o", label="measured")
        base = next((r["updates_per_second"] for r in ok if r["devices"] == 1), None)
        if base:
            ax.plot(devices, [base * d for d in devices], ls="--", color="grey", label="linear from 1 device")
        ax.set_xscale("log", base=2)
        ax.set_xticks(devices, [str(d) for d in devices])
        ax.legend(frameon=False, fontsize=8)
    ax.set(
        xlabel="devices",
        ylabel="meta-updates per second",
        title=f"{result['method']} K={result['steps']}, meta-batch {result['workload']['batch']}",
    )
    ax.grid(alpha=0.3)
    fig.tight_layout()
    atomic_write_figure(path, fig, dpi=100)


def write_outputs(result: dict, out: Path, header_text: str) -> Path:
    """Write ``scaling.json``, ``scaling.md`` (the table under ``header_text``) and ``scaling.png``.

    Args:
        result: what :func:`run_scaling` returned.
        out: the output directory.
        header_text: the report header (:func:`amaml.experiments.header`).

    Returns:
        The path of ``scaling.md``.

    Example:
        A hand-made result of two device counts, the second timed out, in the shape
        :func:`run_scaling` returns:

        >>> import dataclasses, tempfile
        >>> from pathlib import Path
        >>> from amaml.experiments import WORKLOADS, header, write_scaling_report
        >>> rows = [
        ...     {"devices": 1, "status": "ok", "seconds": 0.02, "updates_per_second": 50.0, "compile_seconds": 1.0},
        ...     {"devices": 2, "status": "timeout", "reason": "over 300 s"},
        ... ]
        >>> workload = dataclasses.asdict(WORKLOADS["paper"])
        >>> result = {"workload": workload, "method": "A-MAML", "steps": 10, "dtype": "float32", "rows": rows}
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = write_scaling_report(result, Path(tmp), header("Scaling", "amaml scaling", "abc1234"))
        ...     print(sorted(p.name for p in Path(tmp).iterdir()))
        ...     print(*[line for line in path.read_text().splitlines() if line[:4] in ("| 1 ", "| 2 ")], sep="\\n")
        ['scaling.json', 'scaling.md', 'scaling.png']
        | 1 | 20.0 | 50.00 |  |  | 1.0 |  |
        | 2 | TIMEOUT: over 300 s | | | | | |
    """
    atomic_write_text(out / "scaling.json", json.dumps(result, indent=1) + "\n")
    plot(result, out / "scaling.png")
    path = out / "scaling.md"
    atomic_write_text(path, markdown(result, header_text))
    return path
