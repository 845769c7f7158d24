"""How many meta-updates one method needs on Omniglot: accuracy against meta-updates, one run.

The standard Omniglot report trains every method at one budget, shortened to fit 2 CPU
cores; whether a gap to a published number is that budget is a measurement, not a guess. This
study trains one (setting, method) run of the standard protocol and scores it on the same
test episodes at each milestone of meta-updates. The run is extended from one milestone to
the next (episodes are deterministic in (seed, update) and Adam has no schedule, so the
parameters at a milestone are those of a run trained straight to it).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

from .._io import atomic_write_text
from .._registry import Registry
from ..train import Progress
from ._inner import slug
from ._omniglot import PUBLISHED, SETTINGS, OmniglotBudget, run_config, train_and_score

log = logging.getLogger("amaml")


@dataclasses.dataclass(frozen=True)
class UpdatesBudget:
    """One run's milestones of meta-updates, its meta-batch and its test episodes.

    Args:
        name: the budget's name, in the report's title (``quick``, ``standard``, ``paper``).
        milestones: increasing meta-update counts at which the run is scored.
        meta_batch: episodes per meta-update.
        n_test: meta-test episodes.
        setting: the Omniglot setting (``"5w1s"``, ...).
        label: a method label of the Omniglot reproduction (``"MAML"``, ``"A-MAML"``, ...).
        test_queries: queries per class in a meta-test episode.
        filters: Conv4's width.
        description: one sentence for the report: what the budget is and what it costs.

    Example:
        >>> from amaml.experiments import UPDATES_BUDGETS, UpdatesBudget
        >>> UPDATES_BUDGETS["standard"].milestones
        (1000, 2000, 4000, 8000, 16000)
        >>> budget = UpdatesBudget("tiny", milestones=(1, 2), meta_batch=2, n_test=2)
        >>> budget.omniglot_budget(2).meta_steps, budget.omniglot_budget(2).meta_batch
        (2, {5: 2})
    """

    name: str
    milestones: tuple[int, ...]  # increasing meta-update counts at which the run is scored
    meta_batch: int
    n_test: int
    setting: str = "5w1s"
    label: str = "MAML"  # a method of the Omniglot reproduction (its METHODS table)
    test_queries: int = 5
    filters: int = 64
    description: str = ""

    def omniglot_budget(self, updates: int) -> OmniglotBudget:
        """The Omniglot reproduction's budget for this run trained to ``updates`` meta-updates.

        Args:
            updates: the meta-updates to train to (a milestone).

        Returns:
            An :class:`OmniglotBudget` of this budget's name, setting, method, test episodes, queries,
            filters and meta-batch (for the setting's ways), with ``meta_steps = updates``.
        """
        ways, _ = SETTINGS[self.setting]
        return OmniglotBudget(
            self.name, (self.setting,), (self.label,), meta_steps=updates, n_test=self.n_test,
            test_queries=self.test_queries, meta_batch={ways: self.meta_batch}, filters=self.filters,
        )  # fmt: skip


UPDATES_BUDGETS: Registry[UpdatesBudget] = Registry(
    "budget",
    {
        "quick": UpdatesBudget(
            "quick", milestones=(10, 20), meta_batch=4, n_test=100,
            description="a smoke run (a few minutes): not a result",
        ),
        "standard": UpdatesBudget(
            "standard", milestones=(1000, 2000, 4000, 8000, 16000), meta_batch=8, n_test=600,
            description="MAML on 5-way 1-shot with the standard report's protocol (meta-batch 8, 600 test episodes "
            "of 5 queries per class), four times its 4,000 meta-updates (about 35 minutes on 2 CPU cores)",
        ),
        "paper": UpdatesBudget(
            "paper", milestones=(1000, 2000, 5000, 10_000, 20_000, 40_000, 60_000), meta_batch=32, n_test=600,
            description="MAML's published 5-way 1-shot budget (meta-batch 32, 60,000 meta-updates), for a GPU",
        ),
    },
)  # fmt: skip
"""Budget name -> :class:`UpdatesBudget` of ``amaml reproduce omniglot-updates``."""


def reproduce_updates(
    budget: UpdatesBudget,
    out_dir: Path,
    data_dir: str | Path,
    *,
    progress: Callable[[Progress], None] | None = None,
) -> dict:
    """Train one run to each milestone in turn under ``out_dir/runs``, scoring it at each; resumable.

    Args:
        budget: the method, setting, milestones, meta-batch and test episodes.
        out_dir: where the run and the scored milestones go (``runs/``); nothing is written elsewhere.
        data_dir: the Omniglot files (:func:`amaml.data.load_omniglot`).
        progress: called with each :class:`amaml.train.Progress` event of the run.

    Returns:
        ``{"setting", "label", "published", "milestones": [{"meta_step", "accuracy", "train_seconds",
        ...}]}``; ``train_seconds`` is the wall time of the segment since the previous milestone, as
        measured by the process that trained it (a segment resumed after a kill counts its last part).

    Example:
        >>> from pathlib import Path
        >>> from amaml.experiments import UPDATES_BUDGETS, reproduce_updates
        >>> budget = UPDATES_BUDGETS["quick"]
        >>> budget.label, budget.setting, budget.milestones
        ('MAML', '5w1s', (10, 20))
        >>> results = reproduce_updates(budget, Path("out"), "data/omniglot")  # reads Omniglot  # doctest: +SKIP
        >>> [m["meta_step"] for m in results["milestones"]]  # doctest: +SKIP
        [10, 20]
    """
    run_dir = Path(out_dir) / "runs" / budget.setting / slug(budget.label)
    done_file = Path(out_dir) / "runs" / f"{budget.setting}-{slug(budget.label)}-milestones.json"
    done = {int(k): v for k, v in json.loads(done_file.read_text()).items()} if done_file.exists() else {}
    eval_every = max(1, max(budget.milestones) // 10)  # one value for every segment, so each extends the run
    for updates in budget.milestones:
        if updates in done:
            continue
        config = run_config(budget.omniglot_budget(updates), budget.setting, budget.label, str(data_dir))
        config = dataclasses.replace(config, run=dataclasses.replace(config.run, eval_every=eval_every))
        log.info("%s %s to %d meta-updates", budget.setting, budget.label, updates)
        start = time.perf_counter()
        result = dict(train_and_score(config, run_dir, progress))
        result["train_seconds"] = time.perf_counter() - start
        done[updates] = result
        done_file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(done_file, json.dumps({str(k): v for k, v in done.items()}, indent=1) + "\n")
    return {
        "setting": budget.setting,
        "label": budget.label,
        "published": PUBLISHED.get(budget.label, {}).get(budget.setting),
        "milestones": [done[m] for m in budget.milestones],
    }
