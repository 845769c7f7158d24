"""Omniglot episodes as a run's task source, and the accuracy of an adapted classifier."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import amaml
from amaml.train import MetaTraining, OmniglotTasks, RunConfig, RunSettings, episode_accuracy, load_run, run
from omniglot_fixtures import write_tiny_omniglot

pytestmark = pytest.mark.xdist_group("omniglot_tasks")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("omniglot")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(root / "cache"))
        config = RunConfig(
            tasks=OmniglotTasks(
                data_dir=str(write_tiny_omniglot(root / "data")), ways=3, shots=1, queries=2, n_test=3, size=8
            ),
            model=amaml.models.Conv4(filters=4, blocks=2),
            method=amaml.FOMAML(2, 0.4),  # first order: the cheapest to compile; the source is under test
            meta=MetaTraining(batch=2, steps=2),
            run=RunSettings(eval_every=1),
        )
        run(config, root / "run")
        yield load_run(root / "run"), root


def test_episodes_have_the_protocol_shapes_and_every_label(trained):
    run_, _ = trained
    tasks = run_.parts.dataset.test_tasks(1)
    assert tasks.support_x.shape == (3, 3, 8, 8, 1) and tasks.query_x.shape == (3, 6, 8, 8, 1)
    assert tasks.support_x.dtype == jnp.float64 and tasks.support_y.dtype == jnp.int32
    assert all(sorted(np.asarray(y).tolist()) == [0, 1, 2] for y in tasks.support_y)
    assert float(tasks.support_x.max()) <= 1.0 and float(tasks.support_x.min()) >= 0.0


def test_episode_accuracy_is_the_argmax_hit_rate_after_the_methods_own_adaptation(trained):
    run_, _ = trained
    parts = run_.parts
    tasks = parts.dataset.test_tasks(1)
    got = episode_accuracy(parts.method, parts.loss_fn, run_.params, tasks, parts.model.apply, chunk=2)
    expected = []
    for i in range(tasks.support_x.shape[0]):
        task = jax.tree.map(lambda a, i=i: a[i], tasks)
        adapted = amaml.adapt(parts.method, parts.loss_fn, run_.params, task.support_x, task.support_y)
        logits = np.asarray(parts.model.apply(adapted, task.query_x))
        expected.append(np.mean(np.argmax(logits, -1) == np.asarray(task.query_y)))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert got.shape == (3,)


def test_a_missing_data_directory_is_refused_naming_what_to_put_there(tmp_path):
    config = RunConfig(tasks=OmniglotTasks(data_dir=str(tmp_path / "nothing")), model=amaml.models.Conv4())
    with pytest.raises(ValueError, match="amaml data fetch omniglot"):
        run(config, tmp_path / "run")
    with pytest.raises(ValueError, match="must not exceed 20"):
        OmniglotTasks(shots=10, queries=15)
