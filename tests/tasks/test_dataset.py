"""The fixed-function protocol: training statistics only, sampling without replacement."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from amaml.tasks import CosMixture, make_dataset

FAMILY = CosMixture(dtype=jnp.float64)


@pytest.fixture(scope="module")
def data():
    """10 training and 2 test functions, pools of 50 points."""
    return make_dataset(FAMILY, jax.random.key(0), n_train=10, n_test=2, pool=50)


def test_standardisation_uses_training_functions_only():
    small = make_dataset(FAMILY, jax.random.key(0), n_train=20, n_test=3, pool=200)
    large = make_dataset(FAMILY, jax.random.key(0), n_train=20, n_test=40, pool=200)
    # the test functions differ, the statistics do not
    assert not np.array_equal(small.grid_y[:3], make_dataset(FAMILY, jax.random.key(1), 20, 3, 200).grid_y)
    for a, b in zip(small.standardisation, large.standardisation):
        assert np.array_equal(a, b)
    # standardised training pools are exactly centred and scaled; the test pools are not
    y = jnp.concatenate([large.train_pool_y, large.val_pool_y], 1)
    np.testing.assert_allclose([float(y.mean()), float(y.std())], [0.0, 1.0], atol=1e-12)
    assert abs(float(large.test_pool_y.mean())) > 1e-6


def test_meta_batches_are_distinct_functions_and_points_from_their_pools(data):
    tasks = data.sample(jax.random.key(5), 10, 20, 30)
    assert tasks.support_x.shape == (10, 20, 2) and tasks.query_y.shape == (10, 30, 1)
    rows = {tuple(np.asarray(row)) for row in tasks.support_x.reshape(-1, 2)}
    assert len(rows) == 10 * 20  # no point drawn twice, no function twice
    pool_rows = {tuple(np.asarray(r)) for r in data.train_pool_x.reshape(-1, 2)}
    assert rows <= pool_rows
    again = data.sample(jax.random.key(5), 10, 20, 30)
    assert all(np.array_equal(a, b) for a, b in zip(tasks, again))


def test_test_tasks_use_the_support_pool_and_the_grid():
    data = make_dataset(FAMILY, jax.random.key(0), n_train=5, n_test=4, pool=60)
    tasks = data.test_tasks(10)
    assert np.array_equal(tasks.support_x, data.test_pool_x[:, :10])
    assert tasks.query_x.shape == (4, 961, 2) and np.array_equal(tasks.query_x[2], data.grid_x)


@pytest.mark.parametrize(
    "batch, shots, queries, words",
    [
        (11, 5, 5, "`batch` (11) must not exceed the training functions (10)"),
        (2, 51, 5, "`shots` (51) must not exceed the points of a support pool (50)"),
        (2, 5, 51, "`queries` (51) must not exceed the points of a query pool (50)"),
        (2, 0, 5, "`shots` must be a positive integer"),
    ],
)
def test_a_meta_batch_beyond_the_pools_is_one_clear_error(data, batch, shots, queries, words):
    """Drawn without replacement, so there are no more (before, shots > pool returned pool points silently)."""
    with pytest.raises(ValueError, match=re.escape(words)):
        data.sample(jax.random.key(5), batch, shots, queries)


def test_test_tasks_beyond_the_support_pool_are_one_clear_error(data):
    assert data.test_tasks(50).support_x.shape == (2, 50, 2)
    with pytest.raises(ValueError, match=re.escape("`shots` (51) must not exceed the points of a test function's")):
        data.test_tasks(51)
