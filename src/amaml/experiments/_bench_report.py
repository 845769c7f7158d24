"""The benchmark report: tables of time and memory against K, the comparisons' ratios, and figures."""

from __future__ import annotations

import json
from pathlib import Path

from ._bench import WORKLOADS
from ._bench_compare import COMPARISONS
from ._report import atomic_write_figure, atomic_write_text


def _cell(row: dict | None, key: str, scale: float, fmt: str) -> str:
    if row is None:
        return ""
    value, status = row.get(key), row.get("status", "?")
    if status == "ok":
        return "" if value is None else format(value * scale, fmt)
    # the plan of a measurement stopped for memory or time is still known: show it beside why
    return status.upper() if value is None else f"{format(value * scale, fmt)} ({status.upper()})"


def _ok(rows: list[dict], method: str, steps: int) -> dict | None:
    return next((r for r in rows if r["method"] == method and r["steps"] == steps and r.get("status") == "ok"), None)


def _ratio_table(workload: str, rows: list[dict], comparison) -> str:
    """Other / amaml seconds for each of the comparison's pairs and K (higher: amaml faster)."""
    pairs = [(ours, other) for ours, other in comparison.ratios if any(r["method"] == other for r in rows)]
    steps = sorted({r["steps"] for r in rows if r["method"] in {other for _, other in pairs}})
    if not pairs:
        return ""
    lines = [
        f"\n### {workload}: {comparison.name} / amaml time ratio (higher: amaml faster)\n\n| amaml method | against | "
        + " | ".join(f"K={k}" for k in steps)
        + " |\n|---|---|"
        + "---|" * len(steps)
        + "\n"
    ]
    for ours, other in pairs:
        cells = []
        for k in steps:
            mine, theirs = _ok(rows, ours, k), _ok(rows, other, k)
            ratio = theirs["seconds"] / mine["seconds"] if mine and theirs else None
            cells.append("" if ratio is None else f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.2f}x")
        lines.append(f"| {ours} | {other} | " + " | ".join(cells) + " |\n")
    return "".join(lines)


def markdown(result: dict, header_text: str, dtype: str) -> str:
    rows = result["rows"]
    parts = [
        header_text,
        f"\nEach cell is one fresh process; {dtype}; seconds are the median of repeated "
        "jitted meta-updates (optimiser included), compile time excluded and listed separately. "
        "Peak RSS is the whole process (Python, XLA, data); compiled MB is XLA's own plan for "
        "the meta-update (temporaries, arguments, outputs). OOM: the plan exceeds the memory "
        "limit, or the process was killed; TIMEOUT: the measurement ran past the time limit per "
        "point (its compiled plan, when it got that far, is still shown).\n",
    ]
    for workload in dict.fromkeys(r["workload"] for r in rows):
        wrows = [r for r in rows if r["workload"] == workload]
        steps = sorted({r["steps"] for r in wrows})
        methods = list(dict.fromkeys(r["method"] for r in wrows))
        spec = WORKLOADS.get(workload)
        desc = f" ({spec.description})" if spec else ""
        for title, key, scale, fmt in (
            ("milliseconds per meta-update", "seconds", 1e3, ".1f"),
            ("compile seconds", "compile_seconds", 1, ".1f"),
            ("peak RSS, MB", "peak_rss_bytes", 2**-20, ".0f"),
            ("compiled memory plan, MB", "compiled_bytes", 2**-20, ".1f"),
            ("device peak bytes in use, MB", "device_peak_bytes", 2**-20, ".1f"),
        ):
            if not any(r.get(key) is not None for r in wrows):
                continue
            parts.append(
                f"\n### {workload}{desc}: {title}\n\n| method | "
                + " | ".join(f"K={k}" for k in steps)
                + " |\n|---|"
                + "---|" * len(steps)
                + "\n"
            )
            for method in methods:
                cells = [
                    _cell(next((r for r in wrows if r["method"] == method and r["steps"] == k), None), key, scale, fmt)
                    for k in steps
                ]
                parts.append(f"| {method} | " + " | ".join(cells) + " |\n")
        schemes = {(r["method"], r["steps"]): r["checkpointing"] for r in wrows if r.get("checkpointing")}
        if schemes:  # every plan, stored ones included: which K the memory budget let store outright
            parts.append(
                f"\n{workload}: checkpoint plans (the times above include their recomputation):\n\n"
                + "".join(f"- {m}, K={k}: {text}\n" for (m, k), text in sorted(schemes.items()))
            )
        for name in result.get("comparisons", []):
            parts.append(_ratio_table(workload, wrows, COMPARISONS[name]))
        checks = [c for c in result.get("checks", []) if c["workload"] == workload]
        if checks:
            parts.append(
                f"\n{workload}: same meta-gradient on the workload's parameters (relative difference, 2-norm):\n\n"
                + "".join(
                    f"- {c['theirs']} vs `{c['ours']}` at K={c['steps']}: "
                    f"{c['relative_difference']:.1e} ({c['dtype']})\n"
                    for c in checks
                )
            )
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
            ok = sorted(
                (r for r in wrows if r["method"] == method and r.get("status") == "ok"), key=lambda r: r["steps"]
            )
            oom = [r["steps"] for r in wrows if r["method"] == method and r.get("status") == "oom"]
            if not ok:
                continue
            ks = [r["steps"] for r in ok]
            memory_key = "device_peak_bytes" if ok[0].get("device_peak_bytes") else "peak_rss_bytes"
            (line,) = axes[0].plot(ks, [r["seconds"] for r in ok], marker="o", label=method)
            axes[1].plot(ks, [r[memory_key] / 2**20 for r in ok], marker="o", label=method)
            for ax in axes:  # out of memory: an x at the top edge, so the point is shown, not dropped
                ax.plot(
                    oom,
                    [0.97] * len(oom),
                    marker="x",
                    ms=9,
                    ls="",
                    color=line.get_color(),
                    transform=ax.get_xaxis_transform(),
                )
                for k in oom:
                    ax.annotate(
                        "OOM",
                        (k, 0.97),
                        xycoords=ax.get_xaxis_transform(),
                        xytext=(-7, -3),
                        textcoords="offset points",
                        ha="right",
                        fontsize=7,
                        color=line.get_color(),
                    )
        axes[0].set(
            xscale="log",
            yscale="log",
            xlabel="inner steps K",
            ylabel="seconds per meta-update",
            title=f"{workload}: time",
        )
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

    Example:
        A hand-made result of one method at two K, the second out of memory, in the shape
        :func:`run_bench` returns:

        >>> import tempfile
        >>> from pathlib import Path
        >>> from amaml.experiments import header, write_bench_report
        >>> rows = [
        ...     {"workload": "paper", "method": "MAML", "steps": 1, "status": "ok", "seconds": 0.002,
        ...      "compile_seconds": 0.5, "peak_rss_bytes": 300 * 2**20},
        ...     {"workload": "paper", "method": "MAML", "steps": 10, "status": "oom", "reason": "plan over 8 GB"},
        ... ]
        >>> result = {"rows": rows, "checks": [], "comparisons": []}
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = write_bench_report(result, Path(tmp), header("Benchmark", "amaml bench", "abc1234"), "float32")
        ...     print(sorted(p.name for p in Path(tmp).iterdir()))
        ...     print(next(line for line in path.read_text().splitlines() if line.startswith("| MAML")))
        ['bench.json', 'bench.md', 'paper.png']
        | MAML | 2.0 | OOM |
    """
    atomic_write_text(out / "bench.json", json.dumps(result, indent=1) + "\n")
    plot(result, out)
    path = out / "bench.md"
    atomic_write_text(path, markdown(result, header_text, dtype))
    return path
