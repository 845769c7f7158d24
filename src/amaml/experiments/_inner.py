"""What to meta-learn about the inner loop: the initialisation alone, rates, a horizon, or a head.

One family, one method (the exact discrete adjoint of K Euler steps, i.e. MAML's gradient at
flat memory), one meta-optimiser and budget for every variant; only the fields of
:class:`amaml.MetaParams` that are meta-learned change. Each variant is trained from the same
seeds and evaluated on the same held-out functions with its own (learned) inner loop.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

from .._methods import DiscreteAdjoint
from .._registry import Registry
from ..tasks import Sinusoid
from ..train import Adam, FunctionTasks, MetaTraining, Progress, RunConfig, RunSettings, read_metrics
from ._synthetic import train_and_evaluate

log = logging.getLogger("amaml")

VARIANTS: dict[str, dict[str, str]] = {
    "MAML (init only)": {},
    "Meta-SGD (a rate per parameter)": {"rates": "parameter"},
    "rates per leaf (MAML++-style)": {"rates": "leaf"},
    "learned horizon": {"horizon": "learned"},
    "head only (ANIL)": {"adapt": "head"},
    "head only + learned horizon (COMLN-style)": {"adapt": "head", "horizon": "learned"},
}
"""Variant label -> the ``meta`` options it sets (everything else equal)."""


@dataclasses.dataclass(frozen=True)
class InnerBudget:
    """The shared budget of every variant.

    Args:
        name: the budget's name, in the report's title (``quick``, ``standard``).
        steps: inner steps K of every variant.
        step_sizes: the initial inner steps h, one group of runs each (rates start at 1, the
            horizon at T = K h).
        meta_steps: meta-updates of every run (meta-batch 5).
        seeds: the seeds each variant is trained with.
        n_test: held-out test functions.
        shots: support (and query) points per sinusoid task.
        learning_rate: Adam's learning rate, for every meta-learned field.
        description: one sentence for the report: what the budget is and what it costs.

    Example:
        >>> from amaml.experiments import INNER_BUDGETS, INNER_VARIANTS, InnerBudget
        >>> INNER_BUDGETS["standard"].step_sizes, INNER_BUDGETS["standard"].seeds
        ((0.01, 0.1), (0, 1, 2))
        >>> InnerBudget("tiny", steps=2, step_sizes=(0.1,), meta_steps=3, seeds=(0,)).shots
        10
        >>> INNER_VARIANTS["learned horizon"]
        {'horizon': 'learned'}
    """

    name: str
    steps: int  # inner steps K
    step_sizes: tuple[float, ...]  # initial inner step h (rates start at 1, T at K h)
    meta_steps: int
    seeds: tuple[int, ...]
    n_test: int = 100
    shots: int = 10
    learning_rate: float = 1e-3  # Adam, for every field
    description: str = ""


INNER_BUDGETS: Registry[InnerBudget] = Registry(
    "budget",
    {
        "quick": InnerBudget(
            "quick", steps=5, step_sizes=(0.01,), meta_steps=100, seeds=(0,), n_test=20,
            description="a smoke run (about a minute): not a result",
        ),
        "standard": InnerBudget(
            "standard", steps=10, step_sizes=(0.01, 0.1), meta_steps=1500, seeds=(0, 1, 2),
            description="sinusoid 10-shot, K = 10, two initial step sizes, 3 seeds, 1500 Adam meta-updates",
        ),
    },
)  # fmt: skip
"""Budget name -> :class:`InnerBudget` of ``amaml reproduce inner-loop``."""


def variant_config(budget: InnerBudget, label: str, step_size: float, seed: int) -> RunConfig:
    """The run of one variant: everything but ``VARIANTS[label]`` is shared."""
    return RunConfig(
        tasks=FunctionTasks(Sinusoid(), n_test=budget.n_test, shots=budget.shots, queries=budget.shots),
        method=DiscreteAdjoint(budget.steps, step_size),
        optimizer=Adam(budget.learning_rate),
        meta=MetaTraining(steps=budget.meta_steps, **VARIANTS[label]),
        run=RunSettings(seed=seed, dtype="float64", eval_every=max(1, budget.meta_steps // 10)),
    )


def reproduce_inner(
    budget: InnerBudget,
    out_dir: Path,
    *,
    progress: Callable[[Progress], None] | None = None,
    variants: tuple[str, ...] = tuple(VARIANTS),
) -> dict:
    """Train and evaluate every (step size, variant, seed) under ``out_dir/runs``; resumable.

    Every variant is the exact discrete adjoint of K Euler steps (:class:`amaml.DiscreteAdjoint`)
    on sinusoid tasks, with Adam on every meta-learned field; only what is meta-learned
    (:data:`INNER_VARIANTS`) differs.

    Args:
        budget: the shared budget (:data:`INNER_BUDGETS`).
        out_dir: where the runs go (``out_dir/runs/hSTEP/VARIANT/seedS``).
        progress: passed to each :func:`amaml.train.run`.
        variants: labels of :data:`INNER_VARIANTS`, in report order.

    Returns:
        ``{"h=STEP": {label: [per-seed record]}}``; a record has the evaluation of the
        method's own inner loop (``at_horizon``: nRMSE after K steps; the curve to 10 K
        steps) and the last metrics record (the learned horizon and rate statistics).

    Raises:
        ValueError: for a label not in :data:`INNER_VARIANTS`, before any run.

    Example:
        >>> from pathlib import Path
        >>> from amaml.experiments import INNER_BUDGETS, reproduce_inner
        >>> budget = INNER_BUDGETS["quick"]
        >>> results = reproduce_inner(budget, Path("results/inner-loop/quick"))  # trains 6 runs  # doctest: +SKIP
        >>> group = results["h=0.01"]  # doctest: +SKIP
        >>> len(group["learned horizon"])  # one record per seed  # doctest: +SKIP
        1
        >>> reproduce_inner(budget, Path("unused"), variants=("Meta-SGD",))  # checked before any run
        Traceback (most recent call last):
        ValueError: unknown variant(s) ['Meta-SGD']; valid: MAML (init only), ...
    """
    unknown = [label for label in variants if label not in VARIANTS]
    if unknown:
        raise ValueError(f"unknown variant(s) {unknown}; valid: {', '.join(VARIANTS)}.")
    results: dict = {}
    k = budget.steps
    for step_size in budget.step_sizes:
        group = results.setdefault(f"h={step_size:g}", {})
        for label in variants:
            for seed in budget.seeds:
                config = variant_config(budget, label, step_size, seed)
                run_dir = Path(out_dir) / "runs" / f"h{step_size:g}" / slug(label) / f"seed{seed}"
                log.info("h=%g %s seed %d", step_size, label, seed)
                evaluation = train_and_evaluate(config, run_dir, ("inner",), 10 * k, k, progress)
                last = read_metrics(run_dir / "metrics.jsonl")[-1]
                group.setdefault(label, []).append({"seed": seed, "evaluation": evaluation, "last": last})
    return results


def slug(label: str) -> str:
    """A directory name for a variant label."""
    return "".join(c if c.isalnum() else "-" for c in label.lower()).strip("-").replace("--", "-")
