"""The accuracy study measures the orders of accuracy the theory gives, and writes its report.

Against the continuous gradient: A-MAML with Euler, Heun and RK4 both ways converges at order
1, 2 and 4 in h; against MAML's gradient at the same K, the discrete adjoint (Euler) agrees to
rounding and the continuous adjoint differs at order 1.
"""

import json

import pytest

from amaml.experiments import AccuracyBudget, reproduce_accuracy, write_accuracy_report
from amaml.experiments._accuracy import fitted_orders

pytestmark = pytest.mark.xdist_group("accuracy")  # one worker computes the study once for both tests


@pytest.fixture(scope="module")
def results():
    budget = AccuracyBudget("test", (16, 32), reference_steps=512, width=4, tasks=1)
    return budget, reproduce_accuracy(budget, None)


def test_the_fitted_orders_are_the_schemes_orders(results):
    _, found = results
    flow = fitted_orders(found["rows"], "vs_flow")
    assert 0.8 < flow["A-MAML euler/euler"] < 1.2
    assert 1.7 < flow["A-MAML heun/heun"] < 2.3
    assert 3.3 < flow["A-MAML rk4/rk4"] < 4.7
    assert 0.8 < flow["discrete adjoint euler (= MAML)"] < 1.2
    maml = fitted_orders(found["rows"], "vs_maml")
    assert 0.8 < maml["A-MAML rk4/rk4"] < 1.2  # the continuous adjoint is O(h) from MAML's gradient
    exact = [r["vs_maml"] for r in found["rows"] if r["method"] == "discrete adjoint euler (= MAML)"]
    assert max(exact) < 1e-12


def test_the_report_has_both_tables_and_the_figure(results, tmp_path):
    budget, found = results
    path = write_accuracy_report(found, budget, tmp_path, "amaml reproduce adjoint-accuracy", "abc1234")
    text = path.read_text()
    assert "commit: `abc1234`" in text and text.count("| order |") == 2
    assert (tmp_path / "accuracy.png").stat().st_size > 1000
    assert len(json.loads((tmp_path / "results.json").read_text())["rows"]) == 2 * 6
