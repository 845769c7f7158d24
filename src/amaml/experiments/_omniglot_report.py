"""The Omniglot report: accuracies beside the published ones, findings from the numbers, learning curves."""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path

import numpy as np

from ..train import read_metrics
from ._inner import slug
from ._omniglot import PUBLISHED, PUBLISHED_NOTES, SETTINGS, OmniglotBudget, report_extras
from ._omniglot_gap import inner_residual, protocol_effects, protocol_section
from ._report import atomic_write_figure, git_commit, header, write_files

GAP = 2.0  # points below the published number that the report must explain
GAP_RUN = ("5w1s", "MAML")  # the run whose gap is measured further (test protocol, meta-train accuracy)


METHOD_NOTES = {
    "Reptile": "Reptile's update is theta - u_K = h * (sum of the support gradients along the inner loop); at "
    "K = 1 that is h * grad L_support(theta), training theta on the support sets themselves, which with labels "
    "shuffled per episode carries no meta-learning signal. Nichol et al. (2018) trained Reptile with several Adam "
    "inner steps and tested with 50; here every method has MAML's inner loop (K = 1, h = 0.4 for 5-way).",
}
"""Facts about a method's update that explain a result at this protocol (shown with its finding)."""


def loss_trend(run_dir: Path) -> tuple[float, float, float]:
    """Mean meta-loss over the first, the middle (sixth) and the last tenth of a run's updates."""
    losses = np.asarray([r["meta_loss"] for r in read_metrics(Path(run_dir) / "metrics.jsonl")])
    tenths = np.array_split(losses, 10) if len(losses) >= 10 else [losses] * 10
    return float(tenths[0].mean()), float(tenths[5].mean()), float(tenths[-1].mean())


def findings(results: dict, budget: OmniglotBudget, out_dir: Path) -> list[str]:
    """Which method is best per setting, and every gap of more than GAP points to a published number."""
    lines = []
    for setting, methods in results.items():
        best = max(methods, key=lambda label: methods[label]["accuracy"]["mean"])
        lines.append(f"- {setting}: highest accuracy **{best}** ({methods[best]['accuracy']['mean']:.2f}%).")
        for label, result in methods.items():
            published = PUBLISHED.get(label, {}).get(setting)
            ours = result["accuracy"]["mean"]
            if published is None or published - ours <= GAP:
                continue
            first, middle, last = loss_trend(out_dir / "runs" / setting / slug(label))
            change, chance = last / middle - 1, math.log(SETTINGS[setting][0])
            if last > 0.95 * chance:  # the query loss of uniform predictions: nothing was meta-learned
                lines.append(
                    f"  - {label}: {ours:.2f}% is {published - ours:.1f} points below the published {published:.2f}%; "
                    f"its meta-loss ended at {last:.3f}, chance level (ln {SETTINGS[setting][0]} = {chance:.3f}): it "
                    "did not meta-learn at this protocol. " + METHOD_NOTES.get(label, "")
                )
                continue
            residual = inner_residual(out_dir / "runs" / setting / slug(label)) if label == "iMAML" else None
            lines.append(
                f"  - {label}: {ours:.2f}% is {published - ours:.1f} points below the published {published:.2f}%. "
                f"Budget: {result['meta_step']} meta-updates of meta-batch {result['meta_batch']} (published: "
                f"60,000 of 32 for 5-way, 16 for 20-way). Its meta-loss (mean over a tenth of the updates) was "
                f"{first:.3f} at the start, {middle:.3f} past the middle and {last:.3f} at the end, "
                + (
                    f"{-change:.0%} lower over the last part: still falling, so the run is budget-limited."
                    if change < -0.1
                    else f"{change:+.0%} over the last part: flat, so more updates alone would not close the gap."
                )
                + (
                    ""
                    if residual is None
                    else " Its implicit gradient assumes the inner loop ends at the proximal minimiser; at the trained "
                    f"theta the stationarity residual |grad L + lambda (u_K - theta)| is {residual:.0%} of "
                    f"|grad L(theta)| (mean over 20 meta-test episodes)"
                    + (": far from it, so the implicit gradient is not its loss's gradient." if residual > 0.1 else ".")
                )
            )
    return lines


def markdown(
    results: dict, budget: OmniglotBudget, command: str, commit: str, items: dict, gradients: list | None, out_dir: Path
) -> str:
    parts = [header(f"Omniglot few-shot classification, budget `{budget.name}`", command, commit, items)]
    parts.append(
        f"\nBudget `{budget.name}`: {budget.description}. Conv4 (4 x [3x3 conv 64, batch norm with batch "
        "statistics, ReLU, stride 2], mean pool, linear), Adam 1e-3, float32, MAML's split (1,100 / 100 / 423 "
        "characters, rotations as classes); training episodes have as many queries per class as shots (MAML's "
        f"protocol), test episodes {budget.test_queries}. Accuracy: mean over the test episodes after each "
        "method's own inner loop (its K steps), with the 95% confidence interval.\n"
    )
    parts.append("\n## Findings (computed from the table)\n\n" + "\n".join(findings(results, budget, out_dir)) + "\n")
    rows = ["| setting | method | K | h | meta-batch | updates | accuracy (%) | published (%) |", "|" + "---|" * 8]
    for setting, methods in results.items():
        for label, r in methods.items():
            published = PUBLISHED.get(label, {}).get(setting)
            acc = r["accuracy"]
            rows.append(
                f"| {setting} | {label} | {r['inner_steps']} | {r['step_size']:g} | {r['meta_batch']} | "
                f"{r['meta_step']} | {acc['mean']:.2f} +- {acc['ci95']:.2f} | "
                f"{'' if published is None else f'{published:.2f}'} |"
            )
    parts.append("\n" + "\n".join(rows) + "\n")
    parts.append(f"\nPublished: each method's paper, MAML's protocol. {PUBLISHED_NOTES}\n")
    if gradients:
        parts.append(gradient_error_section(gradients))
    return "".join(parts)


def gradient_error_section(rows: list[dict]) -> str:
    """The continuous adjoint at few-shot step sizes, as a markdown section."""
    lines = [
        "\n## The continuous adjoint at few-shot step sizes\n\n",
        "A-MAML (RK4 forward and backward) on Conv4 at its initialisation, four 5-way 1-shot meta-test "
        "episodes, float64: relative error against MAML's exact gradient (= DiscreteAdjoint with Euler) and "
        "against the reference `amaml.check_meta_grad` uses for the continuous gradient (the exact adjoint of "
        "an RK4 solve with 8 x the steps).\n\n",
        "| K | h | vs MAML's gradient | vs the continuous gradient |\n|---|---|---|---|\n",
    ]
    for r in rows:
        lines.append(
            f"| {r['steps']} | {r['step_size']:g} | {100 * r['vs_maml']:.1f}% | {100 * r['vs_continuous']:.1f}% |\n"
        )
    lines.append(
        "\nAt these step sizes the continuous adjoint is a different, approximate gradient: DiscreteAdjoint is "
        "the exact choice (MAML's gradient at flat memory); the continuous adjoint fits small steps and long "
        "horizons.\n"
    )
    return "".join(lines)


def plot_curves(results: dict, out_dir: Path, path: Path) -> None:
    """Meta-loss (query loss after adaptation) against meta-updates, one panel per setting."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(5.5 * len(results), 4), squeeze=False)
    for ax, (setting, methods) in zip(axes[0], results.items()):
        for label in methods:
            losses = np.asarray(
                [r["meta_loss"] for r in read_metrics(out_dir / "runs" / setting / slug(label) / "metrics.jsonl")]
            )
            window = max(1, len(losses) // 50)
            smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
            ax.plot(np.arange(len(smooth)) + window, smooth, label=label)
        ax.set_xlabel("meta-update")
        ax.set_ylabel("meta-loss (query cross-entropy after adaptation)")
        ax.set_title(f"Omniglot {setting}")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[0][0].legend(frameon=False, fontsize=7)
    fig.tight_layout()
    atomic_write_figure(path, fig)


def write_omniglot_report(
    results: dict,
    budget: OmniglotBudget,
    out_dir: Path,
    command: str,
    commit: str | None = None,
    *,
    data_dir: str | Path | None = None,
) -> Path:
    """Write report.md, results.json and curves.png under ``out_dir``.

    With ``data_dir`` the header names the data files read (with checksums) and the report gains
    the continuous adjoint's gradient errors at few-shot step sizes (:func:`report_extras`).

    The report: each run's accuracy (with its 95% interval) beside the published one, and
    findings computed from them: the best method per setting, and for every gap of more than
    2 points to a published number, what the run's meta-loss says about it. The learning curves
    are read from each run's ``metrics.jsonl`` under ``out_dir/runs``.

    Args:
        results: what :func:`reproduce_omniglot` returned.
        budget: the budget it ran.
        out_dir: the output directory, holding the runs (``out_dir/runs/SETTING/METHOD``).
        command: the command line, for the header.
        commit: the code's commit; default :func:`git_commit`.
        data_dir: the Omniglot files; ``None``: no data items, gradient errors or test-protocol
            study in the report.

    Returns:
        The path of ``report.md``.

    Raises:
        FileNotFoundError: a run in ``results`` has no metrics under ``out_dir/runs`` (checked
            before anything is written).

    Example:
        A hand-made result of one run, with the run's metrics log (as :func:`amaml.train.run`
        writes it) beside it:

        >>> import json, tempfile
        >>> from pathlib import Path
        >>> from amaml.experiments import OmniglotBudget, write_omniglot_report
        >>> budget = OmniglotBudget("tiny", ("5w1s",), ("DiscreteAdjoint",), meta_steps=2, n_test=2)
        >>> results = {"5w1s": {"DiscreteAdjoint": {"accuracy": {"mean": 60.0, "ci95": 5.0}, "inner_steps": 1,
        ...                                         "step_size": 0.4, "meta_batch": 32, "meta_step": 2}}}
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     run = Path(tmp) / "runs" / "5w1s" / "discreteadjoint"
        ...     run.mkdir(parents=True)
        ...     _ = (run / "metrics.jsonl").write_text("".join(json.dumps({"step": s, "meta_loss": 1.6 / s}) + "\\n"
        ...                                                    for s in (1, 2)))
        ...     path = write_omniglot_report(results, budget, Path(tmp), "amaml reproduce omniglot", "abc1234")
        ...     print(sorted(p.name for p in Path(tmp).iterdir()))
        ...     print(next(line for line in path.read_text().splitlines() if line.startswith("| 5w1s")))
        ['curves.png', 'report.md', 'results.json', 'runs']
        | 5w1s | DiscreteAdjoint | 1 | 0.4 | 32 | 2 | 60.00 +- 5.00 |  |
    """
    out_dir = Path(out_dir)
    for setting, methods in results.items():
        for label in methods:
            log = out_dir / "runs" / setting / slug(label) / "metrics.jsonl"
            if not read_metrics(log):
                raise FileNotFoundError(
                    f"out_dir: the run {setting}/{label} has no meta-loss records at {log}; "
                    "expected the output directory reproduce_omniglot wrote (out_dir/runs/SETTING/METHOD)"
                )
    header_items, gradients = report_extras(budget, data_dir) if data_dir is not None else ({}, [])
    effects = None
    if data_dir is not None and GAP_RUN[1] in results.get(GAP_RUN[0], {}):
        effects = protocol_effects(out_dir / "runs" / GAP_RUN[0] / slug(GAP_RUN[1]))
    everything = {"results": results, "gradient_errors": gradients or [], "protocol_effects": effects}
    text = markdown(results, budget, command, commit or git_commit(), header_items, gradients, out_dir)
    if effects is not None:
        text += protocol_section(*GAP_RUN, effects, PUBLISHED[GAP_RUN[1]][GAP_RUN[0]])
    return write_files(out_dir, everything, text, {"curves.png": partial(plot_curves, results, out_dir)})
