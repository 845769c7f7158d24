"""The accuracy study's report: errors against the step size, fitted orders, one two-panel figure."""

from __future__ import annotations

from pathlib import Path

from ._accuracy import AccuracyBudget, fitted_orders
from ._report import atomic_write_figure, header, write_files

PANELS = (
    ("vs_flow", "relative error vs the continuous gradient"),
    ("vs_maml", "relative difference from MAML's gradient at the same K"),
)


def markdown(results: dict, budget: AccuracyBudget, command: str, commit: str) -> str:
    rows = results["rows"]
    steps = sorted({r["steps"] for r in rows})
    methods = list(dict.fromkeys(r["method"] for r in rows))
    parts = [
        header(f"Meta-gradient accuracy against the step size, budget `{budget.name}`", command, commit),
        f"\nTanh MLP 1-{budget.width}-{budget.width}-1, {budget.tasks} sinusoid tasks (10 support, 10 query "
        f"points), float64, horizon T = {budget.horizon} fixed, h = T / K. The continuous gradient is the exact "
        f"discrete adjoint of RK4 at K = {results['reference']['steps']}. Orders are the slopes of log error "
        "against log h over the four smallest steps.\n",
    ]
    for key, title in PANELS:
        orders = fitted_orders(rows, key)
        parts.append(
            f"\n### {title}\n\n| method | "
            + " | ".join(f"K={k}" for k in steps)
            + " | order |\n|---|"
            + "---|" * (len(steps) + 1)
            + "\n"
        )
        for method in methods:
            cells = [next(f"{r[key]:.1e}" for r in rows if r["method"] == method and r["steps"] == k) for k in steps]
            parts.append(f"| {method} | " + " | ".join(cells) + f" | {orders[method]:.2f} |\n")
    return "".join(parts)


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharex=True)
    rows = results["rows"]
    for ax, (key, title) in zip(axes, PANELS):
        for method in dict.fromkeys(r["method"] for r in rows):
            points = sorted((r["step_size"], r[key]) for r in rows if r["method"] == method)
            if all(e > 0 for _, e in points):
                ax.plot(*zip(*points), marker="o", label=method)
        ax.set(xscale="log", yscale="log", xlabel="inner step h = T / K", title=title)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("relative 2-norm difference")
    axes[1].legend(fontsize=7, frameon=False)
    fig.tight_layout()
    atomic_write_figure(path, fig)


def write_accuracy_report(
    results: dict, budget: AccuracyBudget, out_dir: Path, command: str, commit: str | None = None
) -> Path:
    """Write ``report.md``, ``results.json`` and ``accuracy.png`` under ``out_dir``.

    Args:
        results: what :func:`reproduce_accuracy` returned.
        budget: its budget.
        out_dir: the output directory.
        command, commit: for the report's header.

    Returns:
        The path of ``report.md``.

    Example:
        >>> import tempfile
        >>> rows = [{"method": "m", "steps": k, "step_size": 1 / k, "vs_flow": 1 / k, "vs_maml": 2 / k} for k in (2, 4)]
        >>> results = {"rows": rows, "reference": {"steps": 64}}
        >>> with tempfile.TemporaryDirectory() as out:
        ...     path = write_accuracy_report(results, AccuracyBudget("t", (2, 4), 1.0, 64), out, "amaml", "abc1234")
        ...     print(path.name, "| m | 5.0e-01 | 2.5e-01 | 1.00 |" in path.read_text())
        report.md True
    """
    from ._report import git_commit

    text = markdown(results, budget, command, commit or git_commit())
    return write_files(out_dir, results, text, {"accuracy.png": lambda path: plot(results, path)})
