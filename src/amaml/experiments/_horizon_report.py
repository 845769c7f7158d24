"""The long-horizon study's report: accuracy against the inner horizon, findings from the numbers, a figure."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from ._horizon import HorizonBudget
from ._omniglot import data_items
from ._report import git_commit, header, save_accuracy_plot, write_files


def _overlap(a: dict, b: dict) -> bool:
    """Whether two accuracies' 95% intervals overlap (a difference inside them is no difference)."""
    return abs(a["mean"] - b["mean"]) <= a["ci95"] + b["ci95"]


def findings(results: dict) -> list[str]:
    """Best head-only horizon against K=1, the learned horizon, and the full network, each with its interval."""
    head = {label: r for label, r in results.items() if r["adapt"] == "head" and "learned" not in label}
    learned = {label: r for label, r in results.items() if "learned" in label}
    full = {label: r for label, r in results.items() if r["adapt"] == "all"}
    lines = []
    if head:
        ordered = sorted(head.items(), key=lambda item: item[1]["inner_steps"])
        shortest, best = ordered[0], max(ordered, key=lambda item: item[1]["accuracy"]["mean"])
        a, b = shortest[1]["accuracy"], best[1]["accuracy"]
        if best[0] == shortest[0]:
            lines.append(f"- Head only: the shortest horizon ({shortest[0]}) is the most accurate: {a['mean']:.2f}%.")
        else:
            verdict = "inside the intervals: no difference" if _overlap(a, b) else "outside the intervals"
            lines.append(
                f"- Head only: {best[0]} reaches {b['mean']:.2f} +- {b['ci95']:.2f}% against {a['mean']:.2f} +- "
                f"{a['ci95']:.2f}% at {shortest[0]} ({b['mean'] - a['mean']:+.2f} points, {verdict})."
            )
        trend = ", ".join(f"K={r['inner_steps']}: {r['accuracy']['mean']:.2f}%" for _, r in ordered)
        lines.append(f"- Head-only accuracy against K (h fixed, T = K h): {trend}.")
    for label, r in learned.items():
        start = r["inner_steps"] * r["step_size"]
        lines.append(
            f"- {label}: the horizon went from T = {start:g} to {r['horizon']:.3g}; accuracy "
            f"{r['accuracy']['mean']:.2f} +- {r['accuracy']['ci95']:.2f}%."
        )
    for label, r in full.items():
        if head:
            diff = r["accuracy"]["mean"] - b["mean"]
            same = _overlap(r["accuracy"], b)
            lines.append(
                f"- {label}: {r['accuracy']['mean']:.2f} +- {r['accuracy']['ci95']:.2f}%, {diff:+.2f} points against "
                f"the best head-only run ({'inside' if same else 'outside'} the intervals)."
            )
    return lines


def markdown(results: dict, budget: HorizonBudget, command: str, commit: str, items: dict) -> str:
    parts = [header(f"Long inner loops on Omniglot {budget.setting}, budget `{budget.name}`", command, commit, items)]
    parts.append(
        f"\nBudget `{budget.name}`: {budget.description}. Conv4 (64 filters), DiscreteAdjoint (MAML's exact "
        f"gradient of K Euler steps) with h = {budget.step_size:g}, Adam 1e-3, float32, {budget.meta_steps} "
        f"meta-updates of meta-batch {budget.meta_batch}; head only: the body is meta-learned and shared, the "
        f"linear head adapted. Accuracy on {budget.n_test} meta-test episodes ({budget.test_queries} queries per "
        "class) after each run's own inner loop, with the 95% confidence interval.\n"
    )
    parts.append("\n## Findings (computed from the table)\n\n" + "\n".join(findings(results)) + "\n")
    rows = ["| variant | K | horizon T (end) | accuracy (%) |", "|---|---|---|---|"]
    for label, r in results.items():
        acc = r["accuracy"]
        rows.append(f"| {label} | {r['inner_steps']} | {r['horizon']:.3g} | {acc['mean']:.2f} +- {acc['ci95']:.2f} |")
    parts.append("\n" + "\n".join(rows) + "\n")
    return "".join(parts)


def plot(results: dict, path: Path) -> None:
    """Accuracy against the horizon T: head-only runs as a line, the others as points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    head = sorted(
        (
            (r["horizon"], r["accuracy"])
            for label, r in results.items()
            if r["adapt"] == "head" and "learned" not in label
        )
    )
    if head:
        ax.errorbar(
            [t for t, _ in head], [a["mean"] for _, a in head], [a["ci95"] for _, a in head], marker="o", capsize=3,
            label="head only, T = K h",
        )  # fmt: skip
    for label, r in results.items():
        if r["adapt"] == "all" or "learned" in label:
            acc = r["accuracy"]
            ax.errorbar([r["horizon"]], [acc["mean"]], [acc["ci95"]], marker="s", ls="", capsize=3, label=label)
    save_accuracy_plot(fig, ax, "inner horizon T = K h (at the end of training)", path, legend_size=7)


def write_horizon_report(
    results: dict,
    budget: HorizonBudget,
    out_dir: Path,
    command: str,
    commit: str | None = None,
    *,
    data_dir: str | Path | None = None,
) -> Path:
    """Write report.md, results.json and horizon.png under ``out_dir``; the header names the data read.

    The report: each variant's accuracy (with its 95% interval) and horizon T at the end of
    training, and findings computed from them (whether a longer horizon is outside the intervals).

    Args:
        results: what :func:`reproduce_horizon` returned.
        budget: the budget it ran.
        out_dir: the output directory.
        command: the command line, for the header.
        commit: the code's commit; default :func:`git_commit`.
        data_dir: the Omniglot files read, named with their checksums in the header (they are
            read again for that); ``None``: not named.

    Returns:
        The path of ``report.md``.

    Example:
        A hand-made result of one variant, in the shape :func:`reproduce_horizon` returns:

        >>> import tempfile
        >>> from pathlib import Path
        >>> from amaml.experiments import HorizonBudget, write_horizon_report
        >>> budget = HorizonBudget("tiny", head_steps=(1,), learned_from=2, full_steps=(), meta_steps=2,
        ...                        meta_batch=1, n_test=2)
        >>> results = {"head only, K=1": {"accuracy": {"mean": 60.0, "ci95": 5.0}, "inner_steps": 1,
        ...                               "step_size": 0.1, "adapt": "head", "horizon": 0.1}}
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = write_horizon_report(results, budget, Path(tmp), "amaml reproduce omniglot-horizon", "abc1234")
        ...     print(sorted(p.name for p in Path(tmp).iterdir()))
        ...     print(next(line for line in path.read_text().splitlines() if line.startswith("| head")))
        ['horizon.png', 'report.md', 'results.json']
        | head only, K=1 | 1 | 0.1 | 60.00 +- 5.00 |
    """
    text = markdown(results, budget, command, commit or git_commit(), data_items(data_dir))
    return write_files(out_dir, results, text, {"horizon.png": partial(plot, results)})
