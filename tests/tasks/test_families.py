"""Task families: the spec's formulas and ranges, reproducible under a seed."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from amaml.tasks import Alpine, CosMixture, Sinusoid

FAMILIES = [CosMixture(dim=2, dtype=jnp.float64), Alpine(dim=2, dtype=jnp.float64), Sinusoid(dtype=jnp.float64)]


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: type(f).__name__)
def test_same_seed_same_tasks_other_seed_other_tasks(family):
    a = family.sample_tasks(jax.random.key(3), 4, 7, 5)
    b = family.sample_tasks(jax.random.key(3), 4, 7, 5)
    c = family.sample_tasks(jax.random.key(4), 4, 7, 5)
    for x, y, z in zip(a, b, c):
        assert np.array_equal(x, y) and not np.array_equal(x, z)


def test_parameter_and_input_ranges_are_the_specs():
    key = jax.random.key(0)
    cos = CosMixture(dtype=jnp.float64).sample_parameters(key, 5000)
    for column, (low, high) in enumerate([(0.1, 1.0), (0.5 * np.pi, 2 * np.pi), (3.0, 6.0)]):
        assert low <= cos[:, column].min() < low + 0.01 and high - 0.01 < cos[:, column].max() <= high
    alpine = Alpine(dim=3, dtype=jnp.float64).sample_parameters(key, 5000)
    assert alpine.shape == (5000, 3)
    assert (
        -5 * np.pi / 12 <= alpine.min() < -5 * np.pi / 12 + 0.01
        and 5 * np.pi / 12 - 0.01 < alpine.max() <= 5 * np.pi / 12
    )
    # independent phases per coordinate (the authors' code reuses the first one)
    assert abs(np.corrcoef(alpine[:, 0], alpine[:, 1])[0, 1]) < 0.05
    sine = Sinusoid(dtype=jnp.float64).sample_parameters(key, 5000)
    assert 0.1 <= sine[:, 0].min() and sine[:, 0].max() <= 5.0 and 0 <= sine[:, 1].min() and sine[:, 1].max() <= np.pi
    for family, (low, high) in [(CosMixture(), (-1, 1)), (Alpine(), (-10, 10)), (Sinusoid(), (-5, 5))]:
        x = family.sample_inputs(key, 10, 500)
        assert low <= x.min() < low + 0.1 and high - 0.1 < x.max() <= high


def test_values_follow_the_formulas():
    x = np.array([[0.5, -0.25], [1.0, 0.0]])
    A, w, phi = 0.7, 3.0, 4.0
    expected = -0.1 * (A * np.cos(w * x + phi)).sum(1) - (x**2).sum(1)
    np.testing.assert_allclose(CosMixture(dtype=jnp.float64).evaluate(jnp.array([A, w, phi]), x)[:, 0], expected)
    phases = np.array([0.3, -1.1])
    expected = np.abs(x * np.sin(x + phases) + 0.1 * x).sum(1)
    np.testing.assert_allclose(Alpine(dtype=jnp.float64).evaluate(phases, x)[:, 0], expected)
    np.testing.assert_allclose(
        Sinusoid(dtype=jnp.float64).evaluate(jnp.array([2.0, 0.5]), x[:, :1]), 2.0 * np.sin(x[:, :1] - 0.5)
    )


def test_dense_grid_is_31_by_31_in_two_dimensions():
    grid = Alpine().grid(1000)
    assert grid.shape == (961, 2) and float(grid.min()) == -10 and float(grid.max()) == 10
    assert Sinusoid().grid(1000).shape == (1000, 1)


def test_bad_dimension_is_rejected():
    with pytest.raises(ValueError, match="`dim`"):
        CosMixture(dim=0)
