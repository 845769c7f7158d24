"""The meta-update study on a tiny fixture set: an extended run is the run trained straight to a milestone."""

import dataclasses
import shutil

import jax
import numpy as np

from amaml.experiments import UpdatesBudget, reproduce_updates, write_updates_report
from amaml.experiments._omniglot_budget_report import findings
from amaml.train import load_run, run
from omniglot_fixtures import write_tiny_omniglot

BUDGET = UpdatesBudget("tiny", milestones=(2, 3), meta_batch=2, n_test=4, test_queries=1, filters=4)


def test_milestones_extend_one_run_and_equal_a_run_trained_straight(tmp_path, monkeypatch):
    from amaml.experiments._omniglot import run_config

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data = write_tiny_omniglot(tmp_path / "data")
    results = reproduce_updates(BUDGET, tmp_path / "out", data)
    assert [r["meta_step"] for r in results["milestones"]] == [2, 3]
    assert results["label"] == "MAML" and results["published"] == 98.7
    extended = load_run(tmp_path / "out" / "runs" / "5w1s" / "maml").params

    config = run_config(BUDGET.omniglot_budget(3), "5w1s", "MAML", str(data))
    config = dataclasses.replace(config, run=dataclasses.replace(config.run, eval_every=1))
    run(config, tmp_path / "straight")
    straight = load_run(tmp_path / "straight").params
    for a, b in zip(jax.tree.leaves(extended), jax.tree.leaves(straight), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))

    # scored milestones are kept: a second call neither trains nor needs the run
    shutil.rmtree(tmp_path / "out" / "runs" / "5w1s")
    assert reproduce_updates(BUDGET, tmp_path / "out", data) == results
    path = write_updates_report(results, BUDGET, tmp_path / "out", "amaml reproduce omniglot-updates", data_dir=data)
    assert "| 3 | 6 |" in path.read_text() and (tmp_path / "out" / "updates.png").stat().st_size > 1000


def _rows(*points):
    return [
        {"meta_step": m, "meta_batch": 8, "train_seconds": 60.0, "accuracy": {"mean": a, "ci95": 0.5}}
        for m, a in points
    ]


def test_findings_name_the_first_milestone_at_the_published_level_and_the_gain_per_doubling():
    results = {"label": "MAML", "setting": "5w1s", "published": 98.7}
    short = findings({**results, "milestones": _rows((1000, 86.0), (2000, 89.0), (8000, 95.0))})
    assert "does not reach the published 98.70% by 8,000 meta-updates (95.00 +- 0.50%)" in short[0]
    assert "does not reach 2 points below the published 96.70%" in short[1]
    assert "+3.00 points per doubling" in short[2]  # 89 -> 95 over two doublings
    assert "3.0 minutes in all" in short[3]
    reached = findings({**results, "milestones": _rows((1000, 96.0), (2000, 96.8), (4000, 98.9))})
    assert "reaches 2 points below the published 96.70% after 2,000 meta-updates" in reached[1]
    assert "reaches the published 98.70% after 4,000 meta-updates" in reached[0]
