"""Meta collaborative filtering end to end on a fixture dataset the test writes."""

import json

import numpy as np

import amaml
from amaml.data import OneHotItems
from amaml.experiments import CFBudget, reproduce_cf, write_cf_report
from cf_fixtures import random_ratings, write_u_data


def test_reproduce_cf_end_to_end_on_a_fixture_dataset(tmp_path):
    # 110 users rating 60 of the 100 items each: 100 test users and 10 training users
    rows = random_ratings(users=110, items=100, per_user=(60, 60), seed=7)
    write_u_data(tmp_path / "ml", rows)
    budget = CFBudget("tiny", meta_steps=2, description="a test")
    methods = {"A-MAML": (amaml.AdjointMAML, (2,)), "Reptile": (amaml.Reptile, (1,))}
    results = reproduce_cf(
        budget,
        "movielens-100k",
        str(tmp_path / "ml"),
        OneHotItems(),
        tmp_path / "out",
        methods=methods,
        settings=((10, 15),),
    )
    entry = results["settings"]["10/15"]
    assert entry["n_test_users"] == 100 and entry["n_train_users"] == 10
    assert entry["methods"]["A-MAML"]["2"]["inner"]["steps"] == [0, 2] and set(entry["methods"]["Reptile"]) == {"1"}
    path = write_cf_report(results, budget, tmp_path / "out", "amaml reproduce cf --dataset movielens-100k")
    text = path.read_text()
    assert "commit:" in text and "machine:" in text and "| A-MAML | 2 |" in text and "| 0.053 |" in text
    assert "| Reptile | 1 |" in text and "| 0.166 |" in text  # the paper's numbers (50 steps)
    for name in ("global mean", "item mean", "user mean", "item mean + user offset"):
        assert f"| baseline: {name} |" in text
    user = entry["baselines"]["user mean"]["mean"]
    losers = [k for runs in entry["methods"].values() for k, ev in runs.items() if ev["inner"]["mean"][-1] >= user]
    line = next(line for line in text.splitlines() if line.startswith("- 10/15: the user mean baseline scores"))
    assert ("**Not beating it**" in line or "**no meta-learned run beats it**" in line) == bool(losers)
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert np.isclose(saved["settings"]["10/15"]["baselines"]["user mean"]["mean"], user)
    assert (tmp_path / "out" / "nrmse.png").stat().st_size > 1000
    assert (tmp_path / "out" / "runs" / "10-15" / "A-MAML-K2" / "eval.json").exists()
