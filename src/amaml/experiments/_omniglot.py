"""Omniglot few-shot classification: every method at one budget, accuracy on 600 test episodes."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from pathlib import Path

from .._io import atomic_write_text
from .._methods import FOMAML, IMAML, MAML, AbstractMetaMethod, AdjointMAML, DiscreteAdjoint, Reptile
from .._registry import Registry
from ..models import Conv4
from ..train import (
    Adam,
    MetaTraining,
    OmniglotTasks,
    Progress,
    RunConfig,
    RunSettings,
    accuracy_summary,
    episode_accuracy,
    load_run,
    run,
)
from ._inner import slug

log = logging.getLogger("amaml")

SETTINGS = {"5w1s": (5, 1), "5w5s": (5, 5), "20w1s": (20, 1), "20w5s": (20, 5)}
"""Setting label -> (ways, shots)."""

# Published Omniglot accuracies (%), MAML's protocol (spec and the papers' tables).
PUBLISHED: dict[str, dict[str, float]] = {
    "MAML": {"5w1s": 98.7, "5w5s": 99.9, "20w1s": 95.8, "20w5s": 98.9},
    "FOMAML": {"5w1s": 98.3, "5w5s": 99.2, "20w1s": 89.4, "20w5s": 97.9},
    "Reptile": {"5w1s": 95.39, "5w5s": 98.90, "20w1s": 88.14, "20w5s": 96.65},
    "iMAML": {"5w1s": 99.16, "5w5s": 99.67, "20w1s": 94.46, "20w5s": 98.69},  # iMAML-GD
    "Meta-SGD (rates)": {"5w1s": 99.53, "5w5s": 99.93},
}
PUBLISHED_NOTES = "iMAML-HF (Hessian-free inner solver): 99.50 / 99.74 / 96.18 / 99.14."

METHODS: dict[str, tuple[Callable[[int, float], AbstractMetaMethod], dict[str, str]]] = {
    "MAML": (MAML, {}),
    "FOMAML": (FOMAML, {}),
    "Reptile": (Reptile, {}),
    "iMAML": (lambda k, h: IMAML(k, h, prox=1.0, cg_steps=5), {}),
    "DiscreteAdjoint": (DiscreteAdjoint, {}),
    "A-MAML": (AdjointMAML, {}),
    "ANIL (head only)": (DiscreteAdjoint, {"adapt": "head"}),
    "Meta-SGD (rates)": (DiscreteAdjoint, {"rates": "parameter"}),
    "learned horizon": (DiscreteAdjoint, {"horizon": "learned"}),
}
"""Label -> (method builder ``(K, h)``, the ``meta`` options it sets)."""


@dataclasses.dataclass(frozen=True)
class Protocol:
    """One setting's inner loop and meta-batch (MAML's: K=1, h=0.4, 32 for 5-way; K=5, h=0.1, 16 for 20-way)."""

    steps: int
    step_size: float
    meta_batch: int


MAML_PROTOCOL = {5: Protocol(1, 0.4, 32), 20: Protocol(5, 0.1, 16)}


@dataclasses.dataclass(frozen=True)
class OmniglotBudget:
    """What a reproduction runs: settings, methods, meta-updates and test episodes.

    Every method of a setting has the same meta-updates and meta-batch (``meta_steps`` and
    ``meta_batch`` map the number of ways to a value where settings differ).

    Args:
        name: the budget's name, in the report's title (``quick``, ``standard``, ``paper``).
        settings: Omniglot settings (``"5w1s"``, ``"5w5s"``, ``"20w1s"``, ``"20w5s"``).
        methods: method labels of the reproduction (``"MAML"``, ``"A-MAML"``, ``"iMAML"``, ...).
        meta_steps: meta-updates of every run, or ``{ways: meta-updates}``.
        n_test: meta-test episodes per setting.
        test_queries: queries per class in a meta-test episode (training episodes have
            ``shots``, MAML's protocol).
        meta_batch: ``{ways: meta-batch}``, overriding MAML's (32 for 5-way, 16 for 20-way);
            ``None``: MAML's.
        gradient_steps: the K of the continuous adjoint's gradient-error study in the report.
        filters: Conv4's width (64, the standard; smaller only for tests).
        description: one sentence for the report: what the budget is and what it costs.

    Example:
        >>> from amaml.experiments import OMNIGLOT_BUDGETS, OmniglotBudget
        >>> standard = OMNIGLOT_BUDGETS["standard"]
        >>> standard.updates(5), standard.updates(20), standard.protocol(20).meta_batch  # 4, not MAML's 16
        (4000, 300, 4)
        >>> OmniglotBudget("tiny", ("5w1s",), ("MAML",), meta_steps=2, n_test=2).protocol(5).meta_batch
        32
    """

    name: str
    settings: tuple[str, ...]
    methods: tuple[str, ...]
    meta_steps: int | dict[int, int]
    n_test: int
    test_queries: int = 15  # per class in a test episode; training episodes have `shots` (MAML's protocol)
    meta_batch: dict[int, int] | None = None  # ways -> meta-batch, overriding MAML's
    gradient_steps: tuple[int, ...] = (1, 2, 3, 4, 5)  # K of the continuous adjoint's gradient-error study
    filters: int = 64  # Conv4's width (64, the standard; smaller only for tests)
    description: str = ""

    def updates(self, ways: int) -> int:
        """The meta-updates of every method in a ``ways``-way setting.

        Args:
            ways: the number of classes of the setting (5 or 20).

        Returns:
            ``meta_steps``, or ``meta_steps[ways]`` when it maps ways to meta-updates (a ``KeyError`` if absent).
        """
        return self.meta_steps[ways] if isinstance(self.meta_steps, dict) else self.meta_steps

    def protocol(self, ways: int) -> Protocol:
        """MAML's inner loop and meta-batch for ``ways``-way episodes, with this budget's meta-batch.

        Args:
            ways: the number of classes of the setting: 5 or 20 (another is a ``KeyError``).

        Returns:
            MAML's protocol (K=1, h=0.4, meta-batch 32 for 5-way; K=5, h=0.1, 16 for 20-way), its
            ``meta_batch`` replaced by ``meta_batch[ways]`` where the budget sets one.
        """
        base = MAML_PROTOCOL[ways]
        if self.meta_batch and ways in self.meta_batch:
            return dataclasses.replace(base, meta_batch=self.meta_batch[ways])
        return base


OMNIGLOT_BUDGETS: Registry[OmniglotBudget] = Registry(
    "budget",
    {
        "quick": OmniglotBudget(
            "quick", ("5w1s",), ("MAML", "DiscreteAdjoint", "A-MAML"), meta_steps=20, n_test=100,
            meta_batch={5: 4}, gradient_steps=(1,),
            description="a smoke run (under 5 minutes on 2 CPU cores): 20 meta-updates of meta-batch 4, "
            "100 test episodes; not a result",
        ),
        "standard": OmniglotBudget(
            "standard", ("5w1s", "20w1s"), tuple(METHODS), meta_steps={5: 4000, 20: 300}, n_test=600,
            test_queries=5, meta_batch={5: 8, 20: 4},
            description="5-way and 20-way 1-shot, every method, 4,000 meta-updates of meta-batch 8 (5-way) and "
            "300 of meta-batch 4 (20-way) instead of the published 60,000 of 32 and 16, to fit 2 hours on 2 CPU "
            "cores; 600 test episodes of 5 queries per class",
        ),
        "paper": OmniglotBudget(
            "paper", tuple(SETTINGS), tuple(METHODS), meta_steps=60_000, n_test=600,
            description="the published settings (MAML: 5-way K=1 h=0.4 meta-batch 32, 20-way K=5 h=0.1 "
            "meta-batch 16, Adam 1e-3, 60,000 meta-updates), for a GPU",
        ),
    },
)  # fmt: skip
"""Budget name -> :class:`OmniglotBudget` of ``amaml reproduce omniglot``."""


def run_config(budget: OmniglotBudget, setting: str, label: str, data_dir: str) -> RunConfig:
    """One (setting, method) run; everything but the method and its meta options is shared."""
    ways, _ = SETTINGS[setting]
    protocol = budget.protocol(ways)
    build, meta_options = METHODS[label]
    meta = MetaTraining(batch=protocol.meta_batch, steps=budget.updates(ways), **meta_options)
    return episode_run(setting, build(protocol.steps, protocol.step_size), meta, data_dir, budget)


def episode_run(setting: str, method: AbstractMetaMethod, meta: MetaTraining, data_dir: str, budget) -> RunConfig:
    """An Omniglot run of Conv4 (``budget.filters``) with Adam 1e-3 in float32; training episodes
    have ``shots`` queries per class (MAML's protocol), test episodes ``budget.test_queries``."""
    ways, shots = SETTINGS[setting]
    return RunConfig(
        tasks=OmniglotTasks(
            data_dir=data_dir,
            ways=ways,
            shots=shots,
            queries=shots,
            test_queries=budget.test_queries,
            n_test=budget.n_test,
        ),
        model=Conv4(filters=budget.filters),
        method=method,
        optimizer=Adam(1e-3),
        meta=meta,
        run=RunSettings(dtype="float32", eval_every=max(1, meta.steps // 10), checkpoint_every=100),
    )


def reproduce_omniglot(
    budget: OmniglotBudget,
    out_dir: Path,
    data_dir: str | Path,
    *,
    progress: Callable[[Progress], None] | None = None,
) -> dict:
    """Train and evaluate every (setting, method) under ``out_dir/runs``; resumable.

    Every run is Conv4 with Adam 1e-3 in float32 under MAML's protocol (5-way: K = 1, h = 0.4;
    20-way: K = 5, h = 0.1), MAML's split of the characters, and is scored on the same
    ``budget.n_test`` meta-test episodes after its own inner loop.

    Args:
        budget: the settings, methods and compute (:data:`OMNIGLOT_BUDGETS`).
        out_dir: where the runs go (``out_dir/runs/SETTING/METHOD``).
        data_dir: the Omniglot files (:func:`amaml.data.load_omniglot`).
        progress: passed to each :func:`amaml.train.run`.

    Returns:
        ``{setting: {label: {"accuracy": {mean, ci95, episodes}, "inner_steps", "step_size", "meta_batch"}}}``.

    Example:
        >>> from pathlib import Path
        >>> from amaml.experiments import OMNIGLOT_BUDGETS, reproduce_omniglot
        >>> budget = OMNIGLOT_BUDGETS["quick"]
        >>> budget.settings, budget.methods
        (('5w1s',), ('MAML', 'DiscreteAdjoint', 'A-MAML'))
        >>> results = reproduce_omniglot(budget, Path("out"), "data/omniglot")  # reads Omniglot  # doctest: +SKIP
        >>> by_method = results["5w1s"]  # doctest: +SKIP
        >>> maml = by_method["MAML"]  # doctest: +SKIP
        >>> maml["inner_steps"], maml["step_size"]  # doctest: +SKIP
        (1, 0.4)
    """
    results: dict = {}
    for setting in budget.settings:
        results[setting] = {}
        for label in budget.methods:
            config = run_config(budget, setting, label, str(data_dir))
            run_dir = Path(out_dir) / "runs" / setting / slug(label)
            log.info("%s %s (K=%d)", setting, label, config.method.steps)
            results[setting][label] = train_and_score(config, run_dir, progress)
    return results


def train_and_score(config: RunConfig, run_dir: Path, progress: Callable[[Progress], None] | None) -> dict:
    """Train (or resume) one run, then score it on the test episodes unless a matching score is saved."""
    run(config, run_dir, progress=progress)
    cached = run_dir / "accuracy.json"
    if cached.exists():
        saved = json.loads(cached.read_text())
        if saved.get("meta_step") == config.meta.steps:
            return saved
    trained = load_run(run_dir)
    parts = trained.parts
    tasks = parts.dataset.test_tasks(config.tasks.shots)
    accuracies = episode_accuracy(
        parts.method, parts.loss_fn, trained.params, tasks, parts.predictor(trained.params), chunk=50
    )
    result = {
        "meta_step": trained.step,
        "accuracy": accuracy_summary(accuracies),
        "inner_steps": config.method.steps,
        "step_size": config.method.step_size,
        "meta_batch": config.meta.batch,
    }
    atomic_write_text(cached, json.dumps(result, indent=1) + "\n")
    return result


def report_extras(budget: OmniglotBudget, data_dir: str | Path, episodes: int = 4) -> tuple[dict[str, str], list]:
    """The report's header items (the data files read, with checksums) and the gradient-error rows.

    The gradient study uses ``episodes`` 5-way 1-shot meta-test episodes in float64 (the caller
    enables x64) and :func:`~amaml.experiments._omniglot_grad.adjoint_gradient_errors` at h = 0.4.
    """
    import jax
    import jax.numpy as jnp

    from ..data import load_omniglot, omniglot_split, sample_episodes
    from ._omniglot_grad import adjoint_gradient_errors

    images = load_omniglot(Path(data_dir))
    split = omniglot_split(images, "maml", seed=0)
    tasks = sample_episodes(jnp.asarray(split.test), jax.random.key(0), episodes, 5, 1, 1, True, dtype=jnp.float64)
    gradients = adjoint_gradient_errors(tasks, budget.gradient_steps, 0.4, model=Conv4(filters=budget.filters))
    return {"data": images.source_sha256}, gradients  # as data_items, from the images already loaded


def data_items(data_dir: str | Path | None) -> dict[str, str]:
    """A report header's ``data`` item: the Omniglot files read, with their checksums (none without a directory)."""
    from ..data import load_omniglot

    return {"data": load_omniglot(Path(data_dir)).source_sha256} if data_dir is not None else {}
