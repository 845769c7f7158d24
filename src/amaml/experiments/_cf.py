"""Meta collaborative filtering (the paper's section 2.3) on one rating dataset."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .._methods import FOMAML, IMAML, MAML, AbstractMetaMethod, AdjointMAML, Reptile
from .._registry import Registry
from ..data import DATASETS, baseline_nrmse
from ..data._features import AbstractItemFeatures
from ..models import MLP
from ..train import (
    FEATURES,
    AbstractOptimizer,
    Adam,
    MetaTraining,
    Progress,
    RatingTasks,
    RunConfig,
    RunSettings,
    build_parts,
)
from ._synthetic import train_and_evaluate

log = logging.getLogger("amaml")

SETTINGS = ((10, 15), (20, 30))  # (shots, queries): 10shot-15val and 20shot-30val
# label -> (the method at K inner steps of size h, the two step counts); MAML at 5 and 10 as in the paper
METHODS: dict[str, tuple[Callable[[int, float], AbstractMetaMethod], tuple[int, int]]] = {
    "A-MAML": (AdjointMAML, (50, 100)),
    "iMAML": (IMAML, (50, 100)),
    "MAML": (MAML, (5, 10)),
    "FOMAML": (FOMAML, (50, 100)),
    "Reptile": (Reptile, (50, 100)),
}
"""Method label -> (its class, built as ``cls(steps, step_size)``; the two K of the collaborative filtering study)."""

# The paper's meta-test nRMSE (spec section 2.3; definition unpublished) at 50 inner steps
# (MAML 5); at 100 (MAML 10) it gives A-MAML only.
_PAPER_50 = {
    "A-MAML": (0.074, 0.027, 0.053, 0.023, 0.094, 0.035),
    "iMAML": (0.114, 0.050, 0.082, 0.033, 0.138, 0.052),
    "MAML": (0.120, 0.036, 0.123, 0.050, 0.140, 0.059),
    "FOMAML": (0.292, 0.115, 0.174, 0.068, 0.270, 0.104),
    "Reptile": (0.270, 0.106, 0.166, 0.063, 0.266, 0.101),
}
_PAPER_100 = {"A-MAML": (0.069, 0.044, 0.057, 0.021, 0.105, 0.035)}
_COLUMNS = [(d, s) for d in ("jester-1", "movielens-100k", "movielens-1m") for s in SETTINGS]


def paper_nrmse(dataset: str, setting: tuple[int, int], label: str, larger_k: bool) -> float | None:
    """The paper's number for this cell, or None where it gives none."""
    row = (_PAPER_100 if larger_k else _PAPER_50).get(label)
    return None if row is None else row[_COLUMNS.index((dataset, setting))]


@dataclasses.dataclass(frozen=True)
class CFBudget:
    """Meta-training compute per run; every method and setting gets the same.

    Args:
        name: the budget's name, in the report's title (``quick``, ``standard``).
        meta_steps: meta-updates of every run.
        dtype: ``"float32"`` or ``"float64"``.
        step_size: the inner step h of every method (the paper's synthetic h; it states none
            for this experiment).
        optimizer: the meta-optimiser of every run.
        meta_batch: users per meta-update.
        description: one sentence for the report: what the budget is and what it costs.

    Example:
        >>> from amaml.experiments import CF_BUDGETS, CFBudget
        >>> CF_BUDGETS["quick"].meta_steps, CF_BUDGETS["standard"].meta_batch
        (20, 5)
        >>> CFBudget("tiny", meta_steps=2).dtype
        'float32'
    """

    name: str
    meta_steps: int
    dtype: str = "float32"
    step_size: float = 0.01  # the paper's inner h (its synthetic experiment; none stated for CF)
    optimizer: AbstractOptimizer = Adam(1e-3)
    meta_batch: int = 5
    description: str = ""


CF_BUDGETS: Registry[CFBudget] = Registry(
    "budget",
    {
        "quick": CFBudget("quick", meta_steps=20, description="a smoke run of a few minutes; not a result"),
        "standard": CFBudget(
            "standard",
            meta_steps=5000,
            description="5000 Adam meta-updates (lr 1e-3) of 5 users each, float32, sized to take "
            "about 45 minutes on one CPU core for the 20 runs of MovieLens-100K: measured "
            "on this 2-core machine shared with other jobs, 2000 updates of all 20 runs "
            "took 17.5 minutes (A-MAML at K = 100 is the dearest, about 0.1 s an update)",
        ),
    },
)
"""Budget name -> :class:`CFBudget` of ``amaml reproduce cf``."""


def run_config(
    budget: CFBudget,
    dataset: str,
    data_dir: str,
    features: AbstractItemFeatures,
    setting: tuple[int, int],
    method: AbstractMetaMethod,
) -> RunConfig:
    """One run: ``method`` on the users of ``dataset`` with ``setting = (shots, queries)``."""
    shots, queries = setting
    return RunConfig(
        tasks=RatingTasks(DATASETS.lookup(dataset), data_dir=data_dir, features=features, shots=shots, queries=queries),
        model=MLP((40, 40)),
        method=method,
        optimizer=budget.optimizer,
        meta=MetaTraining(batch=budget.meta_batch, steps=budget.meta_steps),
        run=RunSettings(
            dtype=budget.dtype,
            eval_every=max(1, budget.meta_steps // 10),
            checkpoint_every=max(1, budget.meta_steps // 10),
        ),
    )


def _summary(values: np.ndarray) -> dict:
    return {
        "mean": float(values.mean()),
        "std": float(values.std()),
        "n": int(values.size),
        "per_user": values.tolist(),
    }


def reproduce_cf(
    budget: CFBudget,
    dataset: str,
    data_dir: str,
    features: AbstractItemFeatures,
    out_dir: Path,
    *,
    progress: Callable[[Progress], None] | None = None,
    methods=METHODS,
    settings=SETTINGS,
) -> dict:
    """Train and evaluate every (setting, method, K) of ``methods``; resumable per run.

    Args:
        budget: the compute budget (:data:`CF_BUDGETS`).
        dataset: a name of :data:`amaml.data.DATASETS`.
        data_dir: the directory holding its file.
        features: the item input (:class:`amaml.data.OneHotItems` or :class:`~amaml.data.SVDItems`).
        out_dir: where the runs go (``out_dir/runs/SETTING/LABEL-KK``).
        progress: passed to each :func:`amaml.train.run`.
        methods: ``label -> (method class, step counts)``.
        settings: ``(shots, queries)`` pairs.

    Returns:
        ``{"dataset", "features", "settings": {...}}`` with the baselines and every run's
        evaluation: each meta-learner is scored on the test users' query items after its own
        K inner steps on their support set.

    Example:
        >>> from pathlib import Path
        >>> from amaml.data import OneHotItems
        >>> from amaml.experiments import CF_BUDGETS, reproduce_cf
        >>> budget = CF_BUDGETS["quick"]
        >>> results = reproduce_cf(  # reads data/movielens-100k/u.data, trains 20 runs  # doctest: +SKIP
        ...     budget, "movielens-100k", "data/movielens-100k", OneHotItems(), Path("results/cf/quick")
        ... )
        >>> list(results["settings"])  # doctest: +SKIP
        ['10/15', '20/30']
    """
    results: dict = {"dataset": dataset, "features": FEATURES.name_of(features), "settings": {}}
    total = len(settings) * sum(len(steps) for _, steps in methods.values())
    done = 0
    for setting in settings:
        data = build_parts(
            run_config(budget, dataset, data_dir, features, setting, FOMAML(1, budget.step_size))
        ).dataset
        key = f"{setting[0]}/{setting[1]}"
        entry = results["settings"][key] = {
            "shots": setting[0],
            "queries": setting[1],
            "rating_std": float(data.standardisation.y_std),
            "rating_mean": float(data.standardisation.y_mean),
            "n_train_users": int(len(data.train_users)),
            "n_test_users": int(len(data.test_users)),
            "n_items": int(len(data.items)),
            "baselines": {n: _summary(np.asarray(v)) for n, v in baseline_nrmse(data, setting[0]).items()},
            "methods": {},
        }
        for label, (method_class, step_counts) in methods.items():
            for steps in step_counts:
                done += 1
                config = run_config(budget, dataset, data_dir, features, setting, method_class(steps, budget.step_size))
                log.info("[%d/%d] %s %s K=%d", done, total, key, label, steps)
                run_dir = Path(out_dir) / "runs" / f"{setting[0]}-{setting[1]}" / f"{label}-K{steps}"
                evaluation = train_and_evaluate(config, run_dir, ("inner",), steps, steps, progress)
                entry["methods"].setdefault(label, {})[str(steps)] = evaluation
    return results
