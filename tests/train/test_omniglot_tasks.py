"""Omniglot episodes as a run's task source (training on them: tests/experiments/test_reproduce_omniglot.py)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import amaml
from amaml.train import OmniglotTasks, RunConfig, build_parts, run
from omniglot_fixtures import write_tiny_omniglot


def test_the_source_builds_test_episodes_of_its_protocol(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    source = OmniglotTasks(
        data_dir=str(write_tiny_omniglot(tmp_path / "data")),
        ways=3,
        shots=1,
        queries=2,
        test_queries=4,
        n_test=3,
        size=8,
    )
    parts = build_parts(RunConfig(tasks=source, model=amaml.models.Conv4(filters=4, blocks=2)))
    tasks = parts.dataset.test_tasks(1)
    assert tasks.support_x.shape == (3, 3, 8, 8, 1) and tasks.query_x.shape == (3, 12, 8, 8, 1)
    assert tasks.support_x.dtype == jnp.float64 and tasks.support_y.dtype == jnp.int32
    assert all(sorted(np.asarray(y).tolist()) == [0, 1, 2] for y in tasks.support_y)
    assert float(tasks.support_x.max()) <= 1.0 and float(tasks.support_x.min()) >= 0.0
    assert source.output_dim == 3 and parts.init_params["head"]["w"].shape == (4, 3)  # the head has one logit per way
    np.testing.assert_array_equal(parts.dataset.test_tasks(1).query_x, tasks.query_x)  # the test episodes are fixed
    training = parts.dataset.sample(jax.random.key(0), 2, 1, source.queries)
    assert training.query_x.shape == (2, 6, 8, 8, 1)  # training episodes have `queries` per class


def test_a_missing_data_directory_is_refused_naming_what_to_put_there(tmp_path):
    config = RunConfig(tasks=OmniglotTasks(data_dir=str(tmp_path / "nothing")), model=amaml.models.Conv4())
    with pytest.raises(ValueError, match="amaml data fetch omniglot"):
        run(config, tmp_path / "run")
    with pytest.raises(ValueError, match="must not exceed 20"):
        OmniglotTasks(shots=10, queries=15)
    with pytest.raises(ValueError, match="test_queries"):
        OmniglotTasks(shots=5, queries=5, test_queries=16)
