"""The synthetic report: a markdown table beside the paper's numbers, and one figure per panel."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ._report import atomic_write_figure, atomic_write_text, git_commit, header
from ._synthetic import (
    PANEL_TITLES,
    PAPER_AT_0,
    PAPER_AT_0_BASELINES,
    PAPER_AT_1000,
    REPORT_STEPS,
    Budget,
)

MODE_TITLES = {
    "adam": "fine-tuning with Adam (lr 1e-3) on the support set, the paper's protocol",
    "inner": "fine-tuning with each method's own inner dynamics (its solver and step size)",
}


def panel_title(panel: str) -> str:
    family, shots = panel.rsplit("-", 1)
    return f"{PANEL_TITLES[family]} {shots}shot-{shots}val"


def _at(summary: dict, step: int) -> tuple[float, float] | None:
    if step not in summary["steps"]:
        return None
    i = summary["steps"].index(step)
    return summary["mean"][i], summary["std"][i]


def findings(results: dict, mode: str) -> list[str]:
    """Plain statements of who wins at step 0 and at the last step, per panel."""
    lines = []
    wins_at_0 = 0
    for panel, methods in results.items():
        for step_kind in ("first", "last"):
            scores = {}
            for label, evaluation in methods.items():
                summary = evaluation[mode]
                i = 0 if step_kind == "first" else -1
                scores[label] = (summary["mean"][i], summary["steps"][i])
            best = min(scores, key=lambda k: scores[k][0])
            step = scores[best][1]
            rank = sorted(scores, key=lambda k: scores[k][0]).index("A-MAML") + 1
            if step_kind == "first" and best == "A-MAML":
                wins_at_0 += 1
            verdict = (
                "A-MAML is lowest"
                if best == "A-MAML"
                else (
                    f"A-MAML is NOT lowest (rank {rank} of {len(scores)}); {best} is lowest at {scores[best][0]:.3f} "
                    f"vs A-MAML {scores['A-MAML'][0]:.3f}"
                )
            )
            lines.append(f"- {panel_title(panel)}, step {step}: {verdict}.")
    lines.insert(0, f"- A-MAML has the lowest mean nRMSE at step 0 on **{wins_at_0} of {len(results)}** panels.")
    return lines


def markdown(results: dict, budget: Budget, command: str, commit: str) -> str:
    parts = [header(f"Synthetic meta-regression, budget `{budget.name}`", command, commit)]
    some = next(iter(next(iter(results.values())).values()))
    parts.append(
        f"\nBudget `{budget.name}`: {budget.description}. Inner step h = {budget.step_size}, "
        f"K = {budget.steps} inner steps for every method except MAML-1 (1 step)"
        + (f", MAML capped at {budget.maml_max_steps}" if budget.maml_max_steps else ", MAML uncapped")
        + f"; {budget.meta_steps} meta-updates of {type(budget.optimizer).__name__.upper()} "
        f"(lr {budget.optimizer.learning_rate}), "
        f"meta-batch 5, {budget.dtype}, MLP 2 x 32 tanh; {some['n_test']} held-out test functions.\n\n"
        "nRMSE: the root-mean-square error on the 31 x 31 test grid of a held-out function, with "
        "targets standardised by the training functions' mean and standard deviation; "
        "mean +- standard deviation over the test functions, after the given number of test-time "
        "fine-tuning steps from the meta-learned initialisation.\n"
    )
    for mode in budget.modes:
        parts.append(f"\n## {MODE_TITLES[mode]}\n")
        parts.append("\n### Findings (computed from the table)\n\n" + "\n".join(findings(results, mode)) + "\n")
        steps = [s for s in REPORT_STEPS if s <= budget.adapt_steps]
        head = "| panel | method | K | " + " | ".join(f"step {s}" for s in steps) + " | paper @0 | paper @1000 |"
        rule = "|" + "---|" * (len(steps) + 5)
        rows = [head, rule]
        for panel, methods in results.items():
            family, shots = panel.rsplit("-", 1)
            paper = PAPER_AT_1000[(family, int(shots))]
            for label, evaluation in methods.items():
                cells = []
                for s in steps:
                    value = _at(evaluation[mode], s)
                    cells.append("-" if value is None else f"{value[0]:.3f} +- {value[1]:.3f}")
                at0 = PAPER_AT_0.get(label, PAPER_AT_0_BASELINES) if mode == "adam" else ""
                at1000 = f"{paper[label]:.2f}" if (label in paper and mode == "adam") else ""
                rows.append(
                    f"| {panel_title(panel)} | {label} | {evaluation['inner_steps']} | "
                    + " | ".join(cells)
                    + f" | {at0} | {at1000} |"
                )
        parts.append("\n" + "\n".join(rows) + "\n")
    parts.append(
        "\nThe paper's columns: its figure read at about 1000 steps (+-0.02) for A-MAML and the best "
        "baseline only, and its step-0 range; blank where the paper gives no number.\n"
    )
    return "".join(parts)


def plot_panel(panel: str, methods: dict, mode: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for label, evaluation in methods.items():
        summary = evaluation[mode]
        steps, mean, std = (np.asarray(summary[k]) for k in ("steps", "mean", "std"))
        (line,) = ax.plot(steps, mean, label=label, lw=2 if label == "A-MAML" else 1.2)
        ax.fill_between(steps, np.maximum(mean - std, 0), mean + std, color=line.get_color(), alpha=0.12)
    ax.set_xlabel("test-time fine-tuning steps")
    ax.set_ylabel("nRMSE")
    ax.set_title(f"{panel_title(panel)} ({mode})")
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()

    atomic_write_figure(path, fig)


def write_report(results: dict, budget: Budget, out_dir: Path, command: str, commit: str | None = None) -> Path:
    """Write report.md, results.json and one PNG per panel (and mode) under ``out_dir``.

    The report: a table per fine-tuning mode of nRMSE (mean +- standard deviation over the
    test functions) at the report's steps, beside the paper's numbers, and findings computed
    from it (which method is lowest at the first and the last step of each panel).

    Args:
        results: what :func:`reproduce_synthetic` returned.
        budget: the budget it ran (its modes choose the tables and figures).
        out_dir: the output directory.
        command: the command line, for the header.
        commit: the code's commit; default :func:`git_commit`.

    Returns:
        The path of ``report.md``.

    Example:
        A hand-made result of one panel and one method, in the shape
        :func:`reproduce_synthetic` returns:

        >>> import tempfile
        >>> from pathlib import Path
        >>> from amaml.experiments import Budget, write_synthetic_report
        >>> budget = Budget("tiny", steps=2, meta_steps=3, dtype="float32", n_test=2, modes=("adam",), adapt_steps=2)
        >>> curve = {"steps": [0, 1, 2], "mean": [1.0, 0.8, 0.6], "std": [0.1, 0.1, 0.1]}
        >>> results = {"cosmixture-50": {"A-MAML": {"adam": curve, "n_test": 2, "inner_steps": 2}}}
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = write_synthetic_report(results, budget, Path(tmp), "amaml reproduce synthetic", "abc1234")
        ...     print(sorted(p.name for p in Path(tmp).iterdir()))
        ...     print(next(line for line in path.read_text().splitlines() if "step 2:" in line))
        ['cosmixture-50.png', 'report.md', 'results.json']
        - CosMixture 50shot-50val, step 2: A-MAML is lowest.
    """
    for panel, methods in results.items():
        for mode in budget.modes:
            suffix = "" if mode == budget.modes[0] else f"-{mode}"
            plot_panel(panel, methods, mode, out_dir / f"{panel}{suffix}.png")
    atomic_write_text(out_dir / "results.json", json.dumps(results, indent=1) + "\n")
    path = out_dir / "report.md"
    atomic_write_text(path, markdown(results, budget, command, commit or git_commit()))
    return path
