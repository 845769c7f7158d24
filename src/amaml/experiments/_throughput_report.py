"""The throughput report: tables against the meta-batch size and the width, and their figures."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ._bench_compare import SAME_ALGORITHM, TORCH_METHOD
from ._report import atomic_write_figure, atomic_write_text

TARGET_BATCH, TARGET_RATIO = 1000, 100  # issue 14: at 1,000 tasks, >= 100x the PyTorch loop per task


def _failed(row: dict) -> str:
    return f"{row.get('status', '?').upper()}: {row.get('reason', '')}"


def _parameters(dim: int, width: int) -> int:
    return sum(fan_in * fan_out + fan_out for fan_in, fan_out in ((dim, width), (width, width), (width, 1)))


def _batch_table(result: dict) -> list[str]:
    w, steps = result["workload"], result["steps"]
    lines = [
        f"\n## Against the meta-batch size\n\nK = {steps} inner steps, MLP {w['dim']}-{w['width']}-{w['width']}-1 "
        f"tanh, {w['points']} support and {w['points']} query points per task, {result['dtype']}. Each row is a "
        f"fresh process; seconds are the median of {result['repeats']} jitted meta-updates (SGD included, compile "
        f"excluded and listed), PyTorch's of {min(result['repeats'], 3)} (no compile). `{TORCH_METHOD}` is "
        f"benchmarks/torch_amaml.py: the algorithm of `{SAME_ALGORITHM}` (RK4 forward storing every state, "
        "explicit Euler backward) in a Python loop over the tasks, so its cost per task does not fall with the "
        "batch. PyTorch / amaml is the ratio of the times per task at the same batch (`*`: against PyTorch's "
        "time per task at its largest measured batch). Load: the 1-minute load average before the point.\n",
        "\n| tasks | method | ms per meta-update | meta-updates/s | tasks/s | ms per task | PyTorch / amaml "
        "| compile s | load |\n|---|---|---|---|---|---|---|---|---|\n",
    ]
    for r in result["batch_rows"]:
        if r.get("status") != "ok":
            lines.append(f"| {r['batch']} | {r['method']} | {_failed(r)} | | | | | | |\n")
            continue
        ratio = f"{r['torch_ratio']:.0f}x" if "torch_ratio" in r else ""
        ratio += "*" if "torch_ratio_from_batch" in r else ""
        cells = [
            f"{r['seconds'] * 1e3:.1f}",
            f"{r['updates_per_second']:.2f}",
            f"{r['tasks_per_second']:.0f}",
            f"{r['ms_per_task']:.3f}",
            ratio,
            f"{r['compile_seconds']:.1f}",
            f"{r['load_before']:.1f}",
        ]
        lines.append(f"| {r['batch']} | {r['method']} | " + " | ".join(cells) + " |\n")
    check = result.get("gradient_check")
    if check and "relative_difference" in check:
        lines.append(
            f"\nSame meta-gradient: PyTorch vs `{SAME_ALGORITHM}` at K={check['steps']}, relative difference "
            f"{check['relative_difference']:.1e} ({check['dtype']}).\n"
        )
    elif check:
        lines.append(f"\nThe PyTorch vs amaml meta-gradient check failed: {_failed(check)}.\n")
    lines.append(_target(result["batch_rows"]))
    return lines


def _target(rows: list[dict]) -> str:
    target = f"\nTarget (issue 14: at {TARGET_BATCH:,} tasks, >= {TARGET_RATIO}x the PyTorch loop per task): "
    mine = next((r for r in rows if r["method"] == SAME_ALGORITHM and r["batch"] == TARGET_BATCH), None)
    if mine is None or "torch_ratio" not in mine:
        return target + "not measured.\n"
    where = f", against PyTorch at {mine['torch_ratio_from_batch']} tasks" if "torch_ratio_from_batch" in mine else ""
    met = "met" if mine["torch_ratio"] >= TARGET_RATIO else "not met"
    return target + f"{mine['torch_ratio']:.0f}x{where}, {met}.\n"


def _width_table(result: dict) -> list[str]:
    w, peak = result["workload"], result["peak"]
    fit = next((r["flops"] for r in result["width_rows"] if "flops" in r), {})
    counted = f"K = {', '.join(map(str, fit.get('fit_steps', [])))}" if fit else "a few small K"
    if "residual" in fit or not fit:
        counted += f", fitted `a + b K` and extrapolated to K = {result['steps']} (fit: the largest relative distance "
        counted += "of a counted point from the line)"
    lines = [
        f"\n## Against the model width\n\nK = {result['steps']}, meta-batch {result['width_batch']}, MLP "
        f"{w['dim']}-W-W-1 tanh, {w['points']} support and {w['points']} query points per task, {result['dtype']}; "
        "a fresh process per width. FLOPs are XLA's count (`compiled.cost_analysis()`) of the same jitted "
        "meta-update, made after timing it in the same process: XLA counts a while loop's body once, so the "
        f"meta-update is compiled with all its inner steps unrolled at {counted}. This counts the stored plan's "
        "useful work, not the recomputation of checkpointing: a checkpointed method does more arithmetic than "
        "counted here, so its GFLOP/s is a lower bound. GFLOP/s = FLOPs / median time.\n",
        "\n| width | parameters | method | ms per meta-update | GFLOP per meta-update | GFLOP/s | of peak | fit "
        "| compile s | load |\n|---|---|---|---|---|---|---|---|---|---|\n",
    ]
    for r in result["width_rows"]:
        head = f"| {r['width']} | {_parameters(w['dim'], r['width']):,} | {r['method']} |"
        if r.get("status") != "ok":
            lines.append(f"{head} {_failed(r)} | | | | | | |\n")
            continue
        flops = r.get("flops", {})
        cells = [
            f"{r['seconds'] * 1e3:.1f}",
            f"{flops['flops'] / 1e9:.3f}" if flops else "not counted",
            f"{r['gflops_per_second']:.1f}" if flops else "",
            f"{r['fraction_of_peak']:.0%}" if "fraction_of_peak" in r else "",
            (f"{flops['residual']:.0e}" if "residual" in flops else "exact") if flops else "",
            f"{r['compile_seconds']:.1f}",
            f"{r['load_before']:.1f}",
        ]
        lines.append(f"{head} " + " | ".join(cells) + " |\n")
    plans: dict[str, list[str]] = {}  # what was timed: a plan that recomputes does more than is counted
    for r in result["width_rows"]:
        if "checkpointing" in r:
            plans.setdefault(r["checkpointing"], []).append(f"{r['method']} at width {r['width']}")
    if plans:
        items = [plan if len(plans) == 1 else f"{plan} ({', '.join(rows)})" for plan, rows in plans.items()]
        lines.append(f"\nCheckpoint plan{'s' if len(plans) > 1 else ''} of the timed updates: {'; '.join(items)}.\n")
    looped = [f"{r['method']} at width {r['width']}" for r in result["width_rows"] if r.get("flops", {}).get("loops")]
    if looped:  # a loop left in the unrolled program is counted once, not per trip
        lines.append(f"\nA while loop is left in the counted program of {', '.join(looped)}: those counts are low.\n")
    if peak.get("status") == "ok":
        lines.append(
            f"\nPeak: a jitted float32 {peak['size']}x{peak['size']} matmul ({peak['flops'] / 1e9:.1f} GFLOP, XLA's "
            f"count), median of {result['repeats']} after a warm-up, in a fresh process: "
            f"{peak['gflops_per_second']:.1f} GFLOP/s on {os.cpu_count()} CPUs.\n"
        )
    else:
        lines.append(f"\nPeak: not measured ({_failed(peak)}).\n")
    return lines


def plot_tasks(result: dict, path: Path) -> None:
    """Tasks per second against the meta-batch size, log-log, one line per method and PyTorch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for method in dict.fromkeys(r["method"] for r in result["batch_rows"]):
        ok = [r for r in result["batch_rows"] if r["method"] == method and r.get("status") == "ok"]
        if ok:
            style = {"ls": "--", "color": "black"} if method == TORCH_METHOD else {}
            ax.plot([r["batch"] for r in ok], [r["tasks_per_second"] for r in ok], marker="o", label=method, **style)
    ax.set(xscale="log", yscale="log", xlabel="tasks per meta-batch", ylabel="tasks per second")
    batches = sorted({r["batch"] for r in result["batch_rows"]})
    ax.set_xticks(batches, [str(b) for b in batches])
    ax.tick_params(axis="x", which="minor", labelbottom=False)
    ax.set_title(f"K = {result['steps']}, MLP width {result['workload']['width']}", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    if ax.lines:
        ax.legend(frameon=False, fontsize=7)
    fig.tight_layout()
    atomic_write_figure(path, fig, dpi=100)


def plot_gflops(result: dict, path: Path) -> None:
    """Achieved GFLOP/s against the width, one line per method, the measured peak as a horizontal line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for method in dict.fromkeys(r["method"] for r in result["width_rows"]):
        ok = [r for r in result["width_rows"] if r["method"] == method and "gflops_per_second" in r]
        if ok:
            ax.plot([r["width"] for r in ok], [r["gflops_per_second"] for r in ok], marker="o", label=method)
    peak = result["peak"]
    if peak.get("status") == "ok":
        label = f"peak: {peak['size']}x{peak['size']} float32 matmul"
        ax.axhline(peak["gflops_per_second"], ls="--", color="grey", label=label)
    ax.set(xscale="log", yscale="log", xlabel="MLP width", ylabel="GFLOP/s (XLA's count)")
    widths = sorted({r["width"] for r in result["width_rows"]})
    ax.set_xticks(widths, [str(w) for w in widths])
    ax.tick_params(axis="x", which="minor", labelbottom=False)
    ax.set_title(f"K = {result['steps']}, meta-batch {result['width_batch']}", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    if ax.lines:
        ax.legend(frameon=False, fontsize=7)
    fig.tight_layout()
    atomic_write_figure(path, fig, dpi=100)


def write_outputs(result: dict, out: Path, header_text: str) -> Path:
    """Write ``throughput.json``, ``throughput.md`` (tables under ``header_text``), ``tasks.png``, ``gflops.png``.

    Args:
        result: what :func:`amaml.experiments.run_throughput` returned.
        out: the output directory (created if needed).
        header_text: the report header (:func:`amaml.experiments.header`).

    Returns:
        The path of ``throughput.md``.

    Example:
        A hand-made result of one meta-batch size and one width (whose worker failed), with
        no peak measured, in the shape :func:`run_throughput` returns:

        >>> import dataclasses, tempfile
        >>> from pathlib import Path
        >>> from amaml.experiments import WORKLOADS, header, write_throughput_report
        >>> method = "A-MAML rk4/euler stored"
        >>> batch_row = {"batch": 10, "method": method, "status": "ok", "seconds": 0.01, "updates_per_second": 100.0,
        ...              "tasks_per_second": 1000.0, "ms_per_task": 1.0, "compile_seconds": 1.0, "load_before": 0.5}
        >>> width_row = {"width": 32, "method": method, "status": "error", "reason": "exit 1: killed"}
        >>> result = {
        ...     "workload": dataclasses.asdict(WORKLOADS["paper"]), "methods": [method], "steps": 10,
        ...     "dtype": "float32", "repeats": 3, "width_batch": 5, "batch_rows": [batch_row],
        ...     "width_rows": [width_row], "peak": {"status": "error", "reason": "not measured"},
        ... }
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = write_throughput_report(result, Path(tmp), header("Throughput", "amaml throughput", "abc1234"))
        ...     print(sorted(p.name for p in Path(tmp).iterdir()))
        ...     print(next(line for line in path.read_text().splitlines() if line.startswith("| 10 |")))
        ['gflops.png', 'tasks.png', 'throughput.json', 'throughput.md']
        | 10 | A-MAML rk4/euler stored | 10.0 | 100.00 | 1000 | 1.000 |  | 1.0 | 0.5 |
    """
    out = Path(out)
    atomic_write_text(out / "throughput.json", json.dumps(result, indent=1) + "\n")
    plot_tasks(result, out / "tasks.png")
    plot_gflops(result, out / "gflops.png")
    path = out / "throughput.md"
    atomic_write_text(path, "".join([header_text, *_batch_table(result), *_width_table(result)]))
    return path
