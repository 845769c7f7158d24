"""The meta-update study's report: accuracy against meta-updates, findings from the numbers, a figure."""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path

from ._omniglot import data_items
from ._omniglot_budget import UpdatesBudget
from ._report import git_commit, header, save_accuracy_plot, write_files


def findings(results: dict) -> list[str]:
    """Where the run reaches the published accuracy (or 2 points below it), and the gain per doubling."""
    rows = results["milestones"]
    label, setting, published = results["label"], results["setting"], results["published"]
    last = rows[-1]
    lines = []
    if published is not None:
        for threshold, name in ((published, "the published"), (published - 2, "2 points below the published")):
            reached = next((r for r in rows if r["accuracy"]["mean"] >= threshold), None)
            lines.append(
                f"- {label} reaches {name} {threshold:.2f}% after {reached['meta_step']:,} meta-updates."
                if reached
                else f"- {label} does not reach {name} {threshold:.2f}% by {last['meta_step']:,} meta-updates "
                f"({last['accuracy']['mean']:.2f} +- {last['accuracy']['ci95']:.2f}%)."
            )
    if len(rows) >= 2:
        a, b = rows[-2], rows[-1]
        doublings = math.log2(b["meta_step"] / a["meta_step"])
        gain = (b["accuracy"]["mean"] - a["accuracy"]["mean"]) / doublings
        lines.append(
            f"- From {a['meta_step']:,} to {b['meta_step']:,} meta-updates: {gain:+.2f} points per doubling "
            f"({a['accuracy']['mean']:.2f} -> {b['accuracy']['mean']:.2f}%, intervals +- {a['accuracy']['ci95']:.2f} "
            f"and +- {b['accuracy']['ci95']:.2f})."
        )
    minutes = sum(r["train_seconds"] for r in rows) / 60
    lines.append(f"- Training took {minutes:.1f} minutes in all on this machine ({setting}).")
    return lines


def markdown(results: dict, budget: UpdatesBudget, command: str, commit: str, items: dict) -> str:
    title = f"{budget.label} on Omniglot {budget.setting}: accuracy against meta-updates, budget `{budget.name}`"
    parts = [header(title, command, commit, items)]
    published = results["published"]
    parts.append(
        f"\nBudget `{budget.name}`: {budget.description}. One run of the Omniglot reproduction's protocol "
        f"(Conv4, {budget.filters} filters, Adam 1e-3, float32, meta-batch {budget.meta_batch}), extended from one "
        f"milestone to the next and scored at each on the same {budget.n_test} meta-test episodes "
        f"({budget.test_queries} queries per class), with the 95% confidence interval. Published: "
        f"{'n/a' if published is None else f'{published:.2f}%'} (60,000 meta-updates of meta-batch 32 for MAML).\n"
    )
    parts.append("\n## Findings (computed from the table)\n\n" + "\n".join(findings(results)) + "\n")
    rows = [
        "| meta-updates | tasks seen | accuracy (%) | training time of the segment (s) |",
        "|---|---|---|---|",
    ]
    for r in results["milestones"]:
        acc = r["accuracy"]
        rows.append(
            f"| {r['meta_step']:,} | {r['meta_step'] * r['meta_batch']:,} | {acc['mean']:.2f} +- {acc['ci95']:.2f} | "
            f"{r['train_seconds']:.0f} |"
        )
    parts.append("\n" + "\n".join(rows) + "\n")
    return "".join(parts)


def plot(results: dict, path: Path) -> None:
    """Accuracy against meta-updates (log scale), with the published accuracy as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["milestones"]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.errorbar(
        [r["meta_step"] for r in rows], [r["accuracy"]["mean"] for r in rows],
        [r["accuracy"]["ci95"] for r in rows], marker="o", capsize=3, label=results["label"],
    )  # fmt: skip
    if results["published"] is not None:
        ax.axhline(results["published"], color="k", ls="--", lw=1, label="published")
    save_accuracy_plot(fig, ax, "meta-updates", path)


def write_updates_report(
    results: dict,
    budget: UpdatesBudget,
    out_dir: Path,
    command: str,
    commit: str | None = None,
    *,
    data_dir: str | Path | None = None,
) -> Path:
    """Write report.md, results.json and updates.png under ``out_dir``; the header names the data read.

    The report: the run's accuracy (with its 95% interval) at each milestone, and findings
    computed from them (where it reaches the published accuracy, and the gain per doubling
    of the meta-updates).

    Args:
        results: what :func:`reproduce_updates` returned.
        budget: the budget it ran.
        out_dir: the output directory.
        command: the command line, for the header.
        commit: the code's commit; default :func:`git_commit`.
        data_dir: the Omniglot files read, named with their checksums in the header (they are
            read again for that); ``None``: not named.

    Returns:
        The path of ``report.md``.

    Example:
        A hand-made result of two milestones, in the shape :func:`reproduce_updates` returns:

        >>> import tempfile
        >>> from pathlib import Path
        >>> from amaml.experiments import UpdatesBudget, write_updates_report
        >>> def milestone(step, accuracy):
        ...     return {"meta_step": step, "meta_batch": 2, "accuracy": {"mean": accuracy, "ci95": 3.0},
        ...             "train_seconds": 1.5}
        >>> results = {"setting": "5w1s", "label": "MAML", "published": 98.7,
        ...            "milestones": [milestone(10, 40.0), milestone(20, 50.0)]}
        >>> budget = UpdatesBudget("tiny", milestones=(10, 20), meta_batch=2, n_test=2)
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = write_updates_report(results, budget, Path(tmp), "amaml reproduce omniglot-updates", "abc1234")
        ...     print(sorted(p.name for p in Path(tmp).iterdir()))
        ...     print(next(line for line in path.read_text().splitlines() if "per doubling" in line))
        ['report.md', 'results.json', 'updates.png']
        - From 10 to 20 meta-updates: +10.00 points per doubling (40.00 -> 50.00%, intervals +- 3.00 and +- 3.00).
    """
    text = markdown(results, budget, command, commit or git_commit(), data_items(data_dir))
    return write_files(out_dir, results, text, {"updates.png": partial(plot, results)})
