"""The long-horizon study on a tiny fixture set, and its findings computed from the numbers."""

import pytest

from amaml.experiments import HorizonBudget, reproduce_horizon, write_horizon_report
from amaml.experiments._horizon_report import findings
from omniglot_fixtures import write_tiny_omniglot

# One learned-horizon run: a fixed-horizon run differs only by that option (findings are tested below).
BUDGET = HorizonBudget(
    "tiny", head_steps=(), learned_from=2, full_steps=(), meta_steps=2, meta_batch=2, n_test=4,
    setting="5w1s", step_size=0.1, test_queries=1, filters=4,
)  # fmt: skip


def test_the_study_trains_head_only_runs_and_learns_a_horizon(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data = write_tiny_omniglot(tmp_path / "data")
    results = reproduce_horizon(BUDGET, tmp_path / "out", data)
    learned = results["head only, learned horizon (K=2)"]
    assert learned["adapt"] == "head" and learned["inner_steps"] == 2
    # two Adam updates of 1e-3 move T away from K h = 0.2, by at most 2e-3
    assert learned["horizon"] != pytest.approx(0.2, abs=1e-6) and abs(learned["horizon"] - 0.2) <= 2.1e-3
    assert all(0 <= r["accuracy"]["mean"] <= 100 and r["meta_step"] == 2 for r in results.values())
    path = write_horizon_report(results, BUDGET, tmp_path / "out", "amaml reproduce omniglot-horizon", data_dir=data)
    text = path.read_text()
    assert "| head only, learned horizon (K=2) | 2 | 0.2" in text and "- data:" in text
    assert (tmp_path / "out" / "horizon.png").stat().st_size > 1000


def _result(steps, mean, ci, adapt="head", horizon=None):
    return {"inner_steps": steps, "step_size": 0.1, "adapt": adapt, "horizon": horizon or steps * 0.1,
            "accuracy": {"mean": mean, "ci95": ci}}  # fmt: skip


def test_findings_call_a_difference_inside_the_intervals_no_difference():
    apart = {"head only, K=1": _result(1, 80.0, 0.5), "head only, K=100": _result(100, 90.0, 0.5)}
    text = "\n".join(findings(apart))
    assert "head only, K=100 reaches 90.00" in text and "+10.00 points, outside the intervals" in text
    close = {"head only, K=1": _result(1, 80.0, 0.5), "head only, K=100": _result(100, 80.8, 0.5)}
    assert "inside the intervals: no difference" in "\n".join(findings(close))
    shortest_best = {"head only, K=1": _result(1, 85.0, 0.5), "head only, K=10": _result(10, 80.0, 0.5)}
    assert "the shortest horizon (head only, K=1) is the most accurate" in "\n".join(findings(shortest_best))
    full = {**apart, "full network, K=5": _result(5, 91.0, 0.4, adapt="all")}
    assert "full network, K=5: 91.00 +- 0.40%, +1.00 points against the best head-only run (outside" in "\n".join(
        findings(full)
    )
