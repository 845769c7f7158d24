"""The inner-loop meta-parameters report: a table over seeds, findings computed from it, one figure."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ._inner import InnerBudget
from ._report import atomic_write_figure, atomic_write_text, git_commit, header


def seed_summary(records: list[dict]) -> dict:
    """Mean and spread over seeds of the headline numbers of one variant."""

    def over_seeds(values):
        values = np.asarray(values, dtype=float)
        return float(values.mean()), float(values.std())

    inner = [r["evaluation"]["inner"] for r in records]
    summary = {
        "at_0": over_seeds([s["mean"][0] for s in inner]),
        "at_K": over_seeds([s["at_horizon"]["mean"] for s in inner]),
        "at_10K": over_seeds([s["mean"][-1] for s in inner]),
    }
    for key in ("horizon", "rate_mean", "rate_min", "rate_max"):
        if key in records[0]["last"]:
            summary[key] = over_seeds([r["last"][key] for r in records])
    return summary


def findings(results: dict) -> list[str]:
    """Which variant is lowest after K steps, and which differences exceed the seeds' spread."""
    lines = []
    for group, variants in results.items():
        table = {label: seed_summary(records) for label, records in variants.items()}
        best = min(table, key=lambda label: table[label]["at_K"][0])
        base = next(iter(table))
        mean, spread = table[base]["at_K"]
        lines.append(f"- {group}: lowest nRMSE after K steps: **{best}** ({table[best]['at_K'][0]:.3f}).")
        seeds = len(variants[base])
        for label, row in table.items():
            if label == base:
                continue
            difference = row["at_K"][0] - mean
            noise = max(row["at_K"][1], spread)
            word = "lower" if difference < 0 else "higher"
            size = "beyond" if abs(difference) > noise else "within"
            verdict = f"{size} the seeds' spread ({noise:.4f})" if seeds > 1 else "one seed: no spread to judge it by"
            lines.append(f"  - {label}: {abs(difference):.4f} {word} than {base}, {verdict}.")
    return lines


def _cell(pair: tuple[float, float] | None, digits: int = 3) -> str:
    return "-" if pair is None else f"{pair[0]:.{digits}f} +- {pair[1]:.{digits}f}"


def markdown(results: dict, budget: InnerBudget, command: str, commit: str) -> str:
    parts = [header(f"Meta-learning the inner loop, budget `{budget.name}`", command, commit)]
    parts.append(
        f"\nBudget `{budget.name}`: {budget.description}. Every variant: sinusoid "
        f"{budget.shots}-shot, MLP 2 x 32 tanh, the exact discrete adjoint of K = {budget.steps} "
        f"Euler steps (MAML's gradient), Adam (lr {budget.learning_rate}) on every meta-learned "
        f"field, meta-batch 5, {budget.meta_steps} meta-updates, float64, seeds {list(budget.seeds)}; "
        f"rates start at 1 and the horizon at T = K h. nRMSE on {budget.n_test} held-out functions "
        "after adapting with each variant's own (learned) inner loop; mean +- standard deviation "
        "over seeds of the mean over test functions.\n"
    )
    parts.append("\n## Findings (computed from the table)\n\n" + "\n".join(findings(results)) + "\n")
    head = "| initial h | variant | step 0 | after K steps | after 10 K steps | learned T | rates mean [min, max] |"
    rows = [head, "|" + "---|" * 7]
    for group, variants in results.items():
        for label, records in variants.items():
            row = seed_summary(records)
            rates = "-"
            if "rate_mean" in row:
                rates = f"{row['rate_mean'][0]:.3f} [{row['rate_min'][0]:.3f}, {row['rate_max'][0]:.3f}]"
            rows.append(
                f"| {group[2:]} | {label} | {_cell(row['at_0'])} | {_cell(row['at_K'])} | "
                f"{_cell(row['at_10K'])} | {_cell(row.get('horizon'), 4)} | {rates} |"
            )
    parts.append("\n" + "\n".join(rows) + "\n")
    parts.append(
        "\nStep 0 is the meta-learned model without adaptation. 'After 10 K steps' continues each "
        "variant's own inner loop beyond the horizon it was meta-trained for.\n"
    )
    return "".join(parts)


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(5.5 * len(results), 4), squeeze=False)
    for ax, (group, variants) in zip(axes[0], results.items()):
        for label, records in variants.items():
            curves = np.asarray([r["evaluation"]["inner"]["mean"] for r in records])
            steps = np.asarray(records[0]["evaluation"]["inner"]["steps"])
            (line,) = ax.plot(steps, curves.mean(0), label=label)
            low, high = curves.mean(0) - curves.std(0), curves.mean(0) + curves.std(0)
            ax.fill_between(steps, low, high, color=line.get_color(), alpha=0.12)
        ax.set_xlabel("inner steps at test time")
        ax.set_ylabel("nRMSE")
        ax.set_title(f"sinusoid, initial {group}")
        ax.grid(alpha=0.3)
    axes[0][0].legend(frameon=False, fontsize=7)
    fig.tight_layout()
    atomic_write_figure(path, fig)


def write_inner_report(
    results: dict, budget: InnerBudget, out_dir: Path, command: str, commit: str | None = None
) -> Path:
    """Write report.md, results.json and curves.png under ``out_dir``.

    The report: per initial step size, each variant's nRMSE at step 0, after K steps and after
    10 K steps (mean +- standard deviation over seeds), its learned horizon and rates, and
    findings computed from them (which differences exceed the seeds' spread).

    Args:
        results: what :func:`reproduce_inner` returned.
        budget: the budget it ran.
        out_dir: the output directory.
        command: the command line, for the header.
        commit: the code's commit; default :func:`git_commit`.

    Returns:
        The path of ``report.md``.

    Example:
        A hand-made result of one variant and one seed, in the shape :func:`reproduce_inner`
        returns:

        >>> import tempfile
        >>> from pathlib import Path
        >>> from amaml.experiments import InnerBudget, write_inner_report
        >>> budget = InnerBudget("tiny", steps=2, step_sizes=(0.1,), meta_steps=3, seeds=(0,))
        >>> curve = {"steps": [0, 2, 4], "mean": [1.0, 0.7, 0.6], "std": [0.1, 0.1, 0.1], "at_horizon": {"mean": 0.7}}
        >>> results = {"h=0.1": {"MAML (init only)": [{"seed": 0, "evaluation": {"inner": curve}, "last": {}}]}}
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = write_inner_report(results, budget, Path(tmp), "amaml reproduce inner-loop", "abc1234")
        ...     print(sorted(p.name for p in Path(tmp).iterdir()))
        ...     print(next(line for line in path.read_text().splitlines() if line.startswith("| 0.1 |")))
        ['curves.png', 'report.md', 'results.json']
        | 0.1 | MAML (init only) | 1.000 +- 0.000 | 0.700 +- 0.000 | 0.600 +- 0.000 | - | - |
    """
    out_dir = Path(out_dir)
    plot(results, out_dir / "curves.png")
    atomic_write_text(out_dir / "results.json", json.dumps(results, indent=1) + "\n")
    path = out_dir / "report.md"
    atomic_write_text(path, markdown(results, budget, command, commit or git_commit()))
    return path
