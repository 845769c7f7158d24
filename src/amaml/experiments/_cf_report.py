"""The meta collaborative filtering report: our nRMSE and RMSE beside the paper's, with baselines."""

from __future__ import annotations

import json
import math
from pathlib import Path

from ._cf import CFBudget, paper_nrmse
from ._report import atomic_write_figure, atomic_write_text, git_commit, header

TITLES = {"movielens-100k": "MovieLens-100K", "movielens-1m": "MovieLens-1M", "jester-1": "Jester-1"}
FEATURE_TEXT = {
    "onehot": "one-hot over the 100 most-rated items (users restricted to those items)",
    "svd": "100-dimensional item factors of a truncated SVD of the training users' standardised ratings",
}
UNITS = {"jester-1": "rating points", "movielens-100k": "stars", "movielens-1m": "stars"}


def _rows(entry: dict) -> list[tuple[str, int, dict]]:
    """(label, K, evaluation) of every meta-learned run in a setting, K ascending per method."""
    return [(label, int(k), by_k[k]) for label, by_k in entry["methods"].items() for k in sorted(by_k, key=int)]


def _larger_k(entry: dict, label: str, k: int) -> bool:
    """Whether ``k`` is the method's larger step count (100, or MAML's 10) in this setting."""
    return len(entry["methods"][label]) > 1 and k == max(map(int, entry["methods"][label]))


def _after(evaluation: dict) -> tuple[float, float, int]:
    inner = evaluation["inner"]
    return inner["mean"][-1], inner["std"][-1], evaluation["n_test"]


def _se(std: float, n: int) -> float:
    return std / math.sqrt(n)


def _paired(evaluation: dict, baseline: dict) -> tuple[float, float, int]:
    """Mean and standard error over test users of (run - baseline), and the users the run wins on."""
    d = [a - b for a, b in zip(evaluation["inner"]["final_per_task"], baseline["per_user"], strict=True)]
    mean = sum(d) / len(d)
    std = math.sqrt(sum((x - mean) ** 2 for x in d) / len(d))
    return mean, _se(std, len(d)), sum(x < 0 for x in d)


def findings(results: dict) -> list[str]:
    """Plain statements computed from the numbers: who beats the user-mean baseline, who is best."""
    lines = []
    for key, entry in results["settings"].items():
        rows = _rows(entry)
        for name in ("user mean", "item mean + user offset"):
            score = entry["baselines"][name]["mean"]
            beaten = [(label, k) for label, k, ev in rows if _after(ev)[0] < score]
            losers = [f"{label} (K={k}, {_after(ev)[0]:.3f})" for label, k, ev in rows if (label, k) not in beaten]
            lines.append(
                f"- {key}: the {name} baseline scores {score:.3f}; "
                + (
                    f"{len(beaten)} of {len(rows)} meta-learned runs beat it on average."
                    if beaten
                    else "**no meta-learned run beats it**."
                )
                + (f" **Not beating it**: {', '.join(losers)}." if losers and beaten else "")
            )
        label, k, ev = min(rows, key=lambda r: _after(r[2])[0])
        for name, base in sorted(entry["baselines"].items(), key=lambda nb: nb[1]["mean"])[:2]:
            diff, se, wins = _paired(ev, base)
            lines.append(
                f"- {key}: the best meta-learned run, {label} (K={k}, {_after(ev)[0]:.3f}), minus the "
                f"{name} baseline ({base['mean']:.3f}): {diff:+.3f} +- {se:.3f} (paired mean +- standard "
                f"error over test users; {'within' if abs(diff) <= 2 * se else 'beyond'} two standard "
                f"errors); it is lower on {wins} of {base['n']} users."
            )
        for larger in (False, True):
            group = [(label, k, ev) for label, k, ev in rows if _larger_k(entry, label, k) == larger]
            if not group or "A-MAML" not in {g[0] for g in group}:
                continue
            winner = min(group, key=lambda r: _after(r[2])[0])
            amaml = _after(next(g for g in group if g[0] == "A-MAML")[2])[0]
            k_text = "the larger K (100, MAML 10)" if larger else "the smaller K (50, MAML 5)"
            lines.append(
                f"- {key}, {k_text}: "
                + (
                    "A-MAML is the lowest of the meta-learners, as in the paper."
                    if winner[0] == "A-MAML"
                    else f"A-MAML is NOT the lowest of the meta-learners; {winner[0]} is "
                    f"({_after(winner[2])[0]:.3f} vs A-MAML {amaml:.3f})."
                )
            )
    return lines


def markdown(results: dict, budget: CFBudget, command: str, commit: str) -> str:
    dataset = results["dataset"]
    title = TITLES[dataset]
    first = next(iter(results["settings"].values()))
    unit = UNITS[dataset]
    parts = [header(f"Meta collaborative filtering on {title}, budget `{budget.name}`", command, commit)]
    parts.append(
        f"\nEach user is a task: x = the item's vector ({FEATURE_TEXT[results['features']]}), y = the user's "
        f"rating standardised with the training users' mean {first['rating_mean']:.3f} and standard deviation "
        f"{first['rating_std']:.3f}. Users with at least 50 ratings of the kept items: {first['n_test_users']} "
        f"held out as test users (never seen in meta-training), {first['n_train_users']} training users; "
        f"{first['n_items']} items. Test tasks are fixed: each test user's rated items in one random order, "
        f"support = the first k, query = the next q. MLP 2 x 40 tanh, inner step h = {budget.step_size} (the "
        f"paper's synthetic h; it states none for this experiment), A-MAML with RK4 forward and backward, "
        f"iMAML lambda = 1 and 5 CG steps.\n\nBudget `{budget.name}`: {budget.description}.\n\n"
        f"**nRMSE** (our definition; the paper does not publish its own): the root-mean-square error on a "
        f"test user's q query ratings in standardised units, i.e. RMSE / {first['rating_std']:.3f}. **RMSE** is "
        f"the same in {unit}. Each meta-learned initialisation is adapted on the user's k support ratings by "
        f"the method's own inner loop for its K steps (the paper's \"50 inner steps\"); 'step 0' is the "
        f"initialisation itself. Cells are mean +- standard deviation over the test users (the standard error "
        f"of a mean is the standard deviation / {math.sqrt(first['n_test_users']):.0f}). Baselines: the "
        f"training users' global mean rating, the training users' mean rating of the item, the test user's "
        f"own mean over its k support ratings, and the item mean plus the user's mean deviation from the item "
        f"means on its support ratings (the classic bias model; no meta-learning).\n"
    )
    parts.append("\n## Findings (computed from the tables)\n\n" + "\n".join(findings(results)) + "\n")
    for entry in results["settings"].values():
        std = entry["rating_std"]
        parts.append(
            f"\n## {entry['shots']}shot-{entry['queries']}val\n\n"
            f"| method | K | nRMSE step 0 | nRMSE after K | RMSE ({unit}) after K | paper nRMSE |\n"
            "|---|---|---|---|---|---|\n"
        )
        for label, k, ev in _rows(entry):
            mean, sd, _ = _after(ev)
            init = ev["inner"]["mean"][0], ev["inner"]["std"][0]
            paper = paper_nrmse(dataset, (entry["shots"], entry["queries"]), label, _larger_k(entry, label, k))
            parts.append(
                f"| {label} | {k} | {init[0]:.3f} +- {init[1]:.3f} | {mean:.3f} +- {sd:.3f} | "
                f"{mean * std:.3f} +- {sd * std:.3f} | {'' if paper is None else f'{paper:.3f}'} |\n"
            )
        for name, b in entry["baselines"].items():
            parts.append(
                f"| baseline: {name} | - | - | {b['mean']:.3f} +- {b['std']:.3f} | "
                f"{b['mean'] * std:.3f} +- {b['std'] * std:.3f} | |\n"
            )
    parts.append(
        "\nThe paper's column: its table at 50 inner steps (MAML 5), and for A-MAML also at 100 "
        "(MAML 10 has no published number); its nRMSE definition is not published, so the scales "
        "may not be comparable.\n"
    )
    return "".join(parts)


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    settings = results["settings"]
    fig, axes = plt.subplots(1, len(settings), figsize=(5.5 * len(settings), 4), squeeze=False)
    for ax, entry in zip(axes[0], settings.values()):
        rows = _rows(entry)
        names = [f"{label}\nK={k}" for label, k, _ in rows]
        means = [_after(ev)[0] for _, _, ev in rows]
        errors = [_se(_after(ev)[1], _after(ev)[2]) for _, _, ev in rows]
        ax.bar(range(len(rows)), means, yerr=errors, color="tab:blue", alpha=0.7, capsize=2)
        for (name, b), style in zip(entry["baselines"].items(), ("--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)))):
            ax.axhline(b["mean"], color="k", ls=style, lw=1, label=f"{name} {b['mean']:.3f}")
        ax.set_xticks(range(len(rows)), names, fontsize=6)
        ax.set_ylim(min(means + [b["mean"] for b in entry["baselines"].values()]) * 0.9, None)
        ax.set_ylabel("test nRMSE after K inner steps (+- s.e.)")
        ax.set_title(f"{TITLES[results['dataset']]} {entry['shots']}shot-{entry['queries']}val")
        ax.legend(frameon=False, fontsize=7)
    fig.tight_layout()
    atomic_write_figure(path, fig)


def write_cf_report(results: dict, budget: CFBudget, out_dir: Path, command: str, commit: str | None = None) -> Path:
    """Write report.md, results.json and nrmse.png under ``out_dir``.

    The report: per setting, each run's nRMSE before and after its K inner steps and its RMSE
    in the rating's units, beside the paper's nRMSE and the baselines, and findings computed
    from them (who beats the baselines, with paired standard errors over the test users).

    Args:
        results: what :func:`reproduce_cf` returned.
        budget: the budget it ran.
        out_dir: the output directory.
        command: the command line, for the header.
        commit: the code's commit; default :func:`git_commit`.

    Returns:
        The path of ``report.md``.

    Example:
        A hand-made result of one setting, one run and two test users, in the shape
        :func:`reproduce_cf` returns:

        >>> import tempfile
        >>> from pathlib import Path
        >>> from amaml.experiments import CFBudget, write_cf_report
        >>> run = {"inner": {"mean": [1.0, 0.9], "std": [0.2, 0.1], "final_per_task": [0.8, 1.0]}, "n_test": 2}
        >>> def baseline(mean):
        ...     return {"mean": mean, "std": 0.1, "n": 2, "per_user": [mean - 0.1, mean + 0.1]}
        >>> setting = {
        ...     "shots": 10, "queries": 15, "rating_std": 1.1, "rating_mean": 3.5, "n_train_users": 4,
        ...     "n_test_users": 2, "n_items": 100, "methods": {"A-MAML": {"50": run}},
        ...     "baselines": {"user mean": baseline(1.0), "item mean + user offset": baseline(0.95)},
        ... }
        >>> results = {"dataset": "movielens-100k", "features": "onehot", "settings": {"10/15": setting}}
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = write_cf_report(results, CFBudget("tiny", meta_steps=2), Path(tmp), "amaml cf", "abc1234")
        ...     print(sorted(p.name for p in Path(tmp).iterdir()))
        ...     print(next(line for line in path.read_text().splitlines() if line.startswith("| A-MAML")))
        ['nrmse.png', 'report.md', 'results.json']
        | A-MAML | 50 | 1.000 +- 0.200 | 0.900 +- 0.100 | 0.990 +- 0.110 | 0.053 |
    """
    atomic_write_text(out_dir / "results.json", json.dumps(results, indent=1) + "\n")
    plot(results, out_dir / "nrmse.png")
    path = out_dir / "report.md"
    atomic_write_text(path, markdown(results, budget, command, commit or git_commit()))
    return path
