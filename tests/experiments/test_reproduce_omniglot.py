"""The Omniglot reproduction on a tiny fixture set: a table beside the published numbers, and accuracy as defined."""

import jax
import numpy as np
import pytest

import amaml
from amaml.experiments import OmniglotBudget, reproduce_omniglot, write_omniglot_report
from amaml.train import episode_accuracy, load_run
from omniglot_fixtures import write_tiny_omniglot

pytestmark = pytest.mark.xdist_group("reproduce_omniglot")  # its tests share one training

BUDGET = OmniglotBudget(
    "tiny", ("5w1s",), ("FOMAML",), meta_steps=2, n_test=4, test_queries=1, meta_batch={5: 2}, filters=4
)  # first order: the cheapest to compile


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory):
    root = tmp_path_factory.mktemp("omniglot")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(root / "cache"))
        data = write_tiny_omniglot(root / "data")
        yield reproduce_omniglot(BUDGET, root / "out", data), root, data


def test_reproduce_writes_an_accuracy_table_beside_the_published_numbers(reproduced):
    results, root, data = reproduced
    path = write_omniglot_report(results, BUDGET, root / "out", "amaml reproduce omniglot --budget tiny")
    text = path.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| 5w1s | FOMAML |"))
    assert "| 1 | 0.4 | 2 | 2 |" in row and row.rstrip().endswith("| 98.30 |")  # K, h, meta-batch, updates; published
    assert (root / "out" / "curves.png").stat().st_size > 1000
    assert reproduce_omniglot(BUDGET, root / "out", data) == results  # resumed: nothing retrained


def test_accuracy_is_the_argmax_hit_rate_after_the_methods_own_adaptation(reproduced):
    results, root, _ = reproduced
    trained = load_run(root / "out" / "runs" / "5w1s" / "fomaml")
    parts = trained.parts
    tasks = parts.dataset.test_tasks(1)
    got = episode_accuracy(parts.method, parts.loss_fn, trained.params, tasks, parts.model.apply, chunk=3)
    adapt = jax.jit(lambda x, y: amaml.adapt(parts.method, parts.loss_fn, trained.params, x, y))  # compiled once
    expected = []
    for i in range(tasks.support_x.shape[0]):
        task = jax.tree.map(lambda a, i=i: a[i], tasks)
        logits = np.asarray(parts.model.apply(adapt(task.support_x, task.support_y), task.query_x))
        expected.append(np.mean(np.argmax(logits, -1) == np.asarray(task.query_y)))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    assert results["5w1s"]["FOMAML"]["accuracy"]["mean"] == pytest.approx(100 * np.mean(expected), abs=1e-4)


def test_the_gap_measurements_reuse_the_trained_run(reproduced):
    """The test-query sweep at the run's own protocol is its reported accuracy; the rest are new episodes."""
    from amaml.experiments._omniglot_gap import protocol_effects, protocol_section

    results, root, _ = reproduced
    effects = protocol_effects(root / "out" / "runs" / "5w1s" / "fomaml", queries=(1, 2), test_steps=(1,))
    reported = results["5w1s"]["FOMAML"]["accuracy"]
    assert effects["test"][1] == pytest.approx(reported)  # BUDGET has 1 test query per class
    assert effects["steps"][1] == pytest.approx(reported) and effects["own_steps"] == 1  # K=1 is the run's own
    assert effects["train_queries"] == 1 and effects["episodes"] == BUDGET.n_test
    assert 0 <= effects["train"]["mean"] <= 100 and effects["test"][2]["episodes"] == BUDGET.n_test
    text = protocol_section("5w1s", "FOMAML", effects, 98.3)
    assert (
        "| meta-test | 2 | 1 |" in text
        and text.count("| meta-test | 1 | 1 |") == 2
        and "| meta-train | 1 | 1 |" in text
    )
    assert (
        "budget-limited" in text and "With 1 inner steps at test time (MAML's code uses 10) instead of 1: +0.00" in text
    )


@pytest.mark.parametrize(
    "losses, says",
    [
        (np.full(100, np.log(5)), "chance level (ln 5 = 1.609): it did not meta-learn"),
        (np.geomspace(1.5, 0.1, 100), "still falling, so the run is budget-limited"),
        (np.r_[np.geomspace(1.5, 0.3, 50), np.full(50, 0.3)], "flat, so more updates alone would not close the gap"),
    ],
)
def test_a_gap_is_explained_from_the_run_s_own_loss_curve(tmp_path, losses, says):
    from amaml.experiments._omniglot_report import findings

    run = tmp_path / "runs" / "5w1s" / "reptile"
    run.mkdir(parents=True)
    (run / "metrics.jsonl").write_text(
        "".join(f'{{"step": {i + 1}, "meta_loss": {v}}}\n' for i, v in enumerate(losses))
    )
    result = {"accuracy": {"mean": 50.0, "ci95": 1.0}, "meta_step": 100, "meta_batch": 8}
    text = "\n".join(findings({"5w1s": {"Reptile": result}}, BUDGET, tmp_path))
    assert "45.4 points below the published 95.39%" in text and says in text
    assert ("carries no meta-learning signal" in text) == says.startswith("chance")


def test_a_report_on_a_directory_without_the_run_s_metrics_names_it_and_writes_nothing(tmp_path):
    result = {"accuracy": {"mean": 50.0, "ci95": 1.0}, "meta_step": 2, "meta_batch": 2, "inner_steps": 1}
    with pytest.raises(FileNotFoundError, match=r"out_dir: the run 5w1s/FOMAML has no meta-loss records"):
        write_omniglot_report({"5w1s": {"FOMAML": result}}, BUDGET, tmp_path, "amaml reproduce omniglot", "abc")
    assert list(tmp_path.iterdir()) == []


def test_imaml_s_stationarity_residual_after_one_step_is_the_closed_form():
    """One step from theta: u = theta - h g, so grad L(u) + lambda (u - theta) = (I - h H - lambda h I) g."""
    import jax.numpy as jnp

    from amaml.experiments._omniglot_gap import stationarity_residual

    rng = np.random.default_rng(0)  # float64: tests/conftest.py enables x64
    x, y = jnp.asarray(rng.normal(size=(1, 12, 3))), jnp.asarray(rng.normal(size=(1, 12)))
    loss = amaml.losses.mse(lambda p, inputs: inputs @ p["w"])
    theta = {"w": jnp.asarray(rng.normal(size=3))}
    method, h, lam = amaml.IMAML(1, 0.1, prox=2.0), 0.1, 2.0
    g = jax.grad(loss)(theta, x[0], y[0])["w"]
    hessian = jax.hessian(lambda w: loss({"w": w}, x[0], y[0]))(theta["w"])
    expected = np.linalg.norm((np.eye(3) - h * hessian - lam * h * np.eye(3)) @ g) / np.linalg.norm(g)
    task = amaml.Task(x, y, x, y)
    assert stationarity_residual(method, loss, theta, task) == pytest.approx(expected, rel=1e-10)
    many = amaml.IMAML(2000, 0.1, prox=2.0)  # converged to the proximal minimiser: the residual vanishes
    assert stationarity_residual(many, loss, theta, task) < 1e-8
