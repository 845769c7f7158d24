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
