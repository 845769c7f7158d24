"""Where long inner loops matter: Omniglot 20-way 5-shot with head-only adaptation up to K=1000.

With the Conv4 body shared (meta-learned, run once per task) and only the linear head adapted,
an inner step costs a 64 x 20 matrix product, so K = 1000 steps are affordable and the
meta-gradient through them is exact and flat in memory (:class:`amaml.DiscreteAdjoint`). The
study asks whether a longer horizon helps: the same head-only run at K = 1, 10, 100, 1000 with
one step size (the horizon T = K h grows with K), a horizon meta-learned from K h, and the
full network adapted with MAML's protocol (K = 5) as the reference, all at one budget.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

from .._methods import DiscreteAdjoint
from .._registry import Registry
from ..train import MetaTraining, Progress, RunConfig, read_metrics
from ._inner import slug
from ._omniglot import episode_run, train_and_score

log = logging.getLogger("amaml")


@dataclasses.dataclass(frozen=True)
class HorizonVariant:
    """One run of the study: inner steps K, what is adapted, whether the horizon is learned."""

    label: str
    steps: int
    adapt: str = "head"
    horizon: str = "fixed"


@dataclasses.dataclass(frozen=True)
class HorizonBudget:
    """What the study runs; every variant shares the setting, step size, meta-updates and test episodes.

    Args:
        name: the budget's name, in the report's title (``quick``, ``standard``, ``paper``).
        head_steps: K of the head-only runs (the horizon T = K h grows with K).
        learned_from: K of the head-only run whose horizon is meta-learned (T starts at K h).
        full_steps: K of the full-network runs (5: MAML's 20-way protocol); ``()``: none.
        meta_steps: meta-updates of every run.
        meta_batch: episodes per meta-update.
        n_test: meta-test episodes.
        setting: the Omniglot setting (``"5w1s"``, ``"5w5s"``, ``"20w1s"``, ``"20w5s"``).
        step_size: the inner step h of every run (0.1: MAML's 20-way inner step).
        test_queries: queries per class in a meta-test episode.
        filters: Conv4's width.
        description: one sentence for the report: what the budget is and what it costs.

    Example:
        >>> from amaml.experiments import HORIZON_BUDGETS, HorizonBudget
        >>> for variant in HORIZON_BUDGETS["quick"].variants():
        ...     print(variant.label, variant.steps, variant.adapt, variant.horizon)
        head only, K=1 1 head fixed
        head only, K=100 100 head fixed
        head only, learned horizon (K=10) 10 head learned
        >>> budget = HorizonBudget("tiny", head_steps=(1,), learned_from=2, full_steps=(), meta_steps=2,
        ...                        meta_batch=1, n_test=2)
        >>> budget.setting, budget.step_size
        ('20w5s', 0.1)
    """

    name: str
    head_steps: tuple[int, ...]  # K of the head-only runs
    learned_from: int  # K of the head-only run whose horizon is learned (T starts at K h)
    full_steps: tuple[int, ...]  # K of full-network runs (5: MAML's 20-way protocol)
    meta_steps: int
    meta_batch: int
    n_test: int
    setting: str = "20w5s"
    step_size: float = 0.1  # MAML's 20-way inner step
    test_queries: int = 5
    filters: int = 64
    description: str = ""

    def variants(self) -> list[HorizonVariant]:
        """The runs, in report order.

        Returns:
            One full-network run per ``full_steps`` (``adapt="all"``), then one head-only run per
            ``head_steps``, then the head-only run with its horizon learned from ``K = learned_from``.
        """
        full = [HorizonVariant(f"full network, K={k}", k, adapt="all") for k in self.full_steps]
        head = [HorizonVariant(f"head only, K={k}", k) for k in self.head_steps]
        learned = HorizonVariant(
            f"head only, learned horizon (K={self.learned_from})", self.learned_from, horizon="learned"
        )
        return full + head + [learned]


HORIZON_BUDGETS: Registry[HorizonBudget] = Registry(
    "budget",
    {
        "quick": HorizonBudget(
            "quick", head_steps=(1, 100), learned_from=10, full_steps=(), meta_steps=10, meta_batch=2, n_test=20,
            description="a smoke run (a few minutes): not a result",
        ),
        "standard": HorizonBudget(
            "standard", head_steps=(1, 10, 100, 1000), learned_from=100, full_steps=(5,), meta_steps=400,
            meta_batch=4, n_test=600,
            description="400 meta-updates of meta-batch 4 for every variant (2 CPU cores); full-network "
            "adaptation at K = 100 is left to the `paper` budget (a GPU)",
        ),
        "paper": HorizonBudget(
            "paper", head_steps=(1, 10, 100, 1000), learned_from=100, full_steps=(5, 100), meta_steps=20_000,
            meta_batch=16, n_test=600, description="20,000 meta-updates of meta-batch 16, with full-network "
            "adaptation at K = 100 where MAML's memory runs out, for a GPU",
        ),
    },
)  # fmt: skip
"""Budget name -> :class:`HorizonBudget` of ``amaml reproduce omniglot-horizon``."""


def horizon_config(budget: HorizonBudget, variant: HorizonVariant, data_dir: str) -> RunConfig:
    """One variant's run: DiscreteAdjoint(K, h) (MAML's exact gradient), Adam 1e-3, float32."""
    meta = MetaTraining(batch=budget.meta_batch, steps=budget.meta_steps, adapt=variant.adapt, horizon=variant.horizon)
    return episode_run(budget.setting, DiscreteAdjoint(variant.steps, budget.step_size), meta, data_dir, budget)


def reproduce_horizon(
    budget: HorizonBudget,
    out_dir: Path,
    data_dir: str | Path,
    *,
    progress: Callable[[Progress], None] | None = None,
) -> dict:
    """Train and score every variant under ``out_dir/runs``; resumable.

    Each variant (:meth:`HorizonBudget.variants`) is :class:`amaml.DiscreteAdjoint` (MAML's
    exact gradient of K Euler steps at flat memory) on Conv4, Adam 1e-3, float32.

    Args:
        budget: the study's budget (:data:`HORIZON_BUDGETS`).
        out_dir: where the runs go (``out_dir/runs/VARIANT``).
        data_dir: the Omniglot files (:func:`amaml.data.load_omniglot`).
        progress: passed to each :func:`amaml.train.run`.

    Returns:
        ``{label: {"accuracy", "inner_steps", "step_size", "meta_batch", "meta_step", "adapt",
        "horizon"}}``, ``horizon`` being T at the end of training (K h unless learned).

    Example:
        >>> from pathlib import Path
        >>> from amaml.experiments import HORIZON_BUDGETS, reproduce_horizon
        >>> budget = HORIZON_BUDGETS["quick"]
        >>> print(*(variant.label for variant in budget.variants()), sep="; ")
        head only, K=1; head only, K=100; head only, learned horizon (K=10)
        >>> results = reproduce_horizon(budget, Path("out"), "data/omniglot")  # reads Omniglot  # doctest: +SKIP
        >>> run = results["head only, K=100"]  # doctest: +SKIP
        >>> run["adapt"], run["inner_steps"]  # doctest: +SKIP
        ('head', 100)
    """
    results = {}
    for variant in budget.variants():
        config = horizon_config(budget, variant, str(data_dir))
        run_dir = Path(out_dir) / "runs" / slug(variant.label)
        log.info("%s %s", budget.setting, variant.label)
        result = dict(train_and_score(config, run_dir, progress))
        last = read_metrics(run_dir / "metrics.jsonl")[-1]
        result.update(adapt=variant.adapt, horizon=last.get("horizon", variant.steps * budget.step_size))
        results[variant.label] = result
    return results
