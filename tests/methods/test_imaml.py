"""IMAML: the implicit gradient at a converged inner problem, and conjugate gradient."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import amaml
from amaml._methods.imaml import conjugate_gradient
from amaml._params import flat_loss, flatten
from oracles import imaml_closed_form, linear_apply, linear_params, linear_tasks, relative_error


@pytest.mark.parametrize("prox", [0.3, 1.0, 4.0])
def test_converged_imaml_matches_the_implicit_closed_form(prox):
    tasks = linear_tasks(jax.random.key(0), 1, 20, 20, 3)
    task = jax.tree_util.tree_map(lambda a: a[0], tasks)
    theta, unravel = flatten(linear_params(jax.random.key(1), 3))
    loss = flat_loss(amaml.losses.mse(linear_apply), unravel)
    method = amaml.IMAML(3000, 0.05, prox=prox, cg_steps=theta.size)
    _, grad = jax.jit(lambda t: method.value_and_grad(loss, t, task))(theta)
    assert relative_error(grad, imaml_closed_form(theta, task, prox)) < 1e-6


def test_conjugate_gradient_is_exact_in_n_steps_and_stable_after():
    q = jax.random.normal(jax.random.key(2), (6, 6))
    A = q @ q.T + 0.5 * jnp.eye(6)
    b = jnp.arange(1.0, 7.0)
    exact = jnp.linalg.solve(A, b)
    np.testing.assert_allclose(conjugate_gradient(lambda v: A @ v, b, 6), exact, rtol=1e-8)
    # Running past convergence (zero residual) must not produce NaN.
    assert jnp.all(jnp.isfinite(conjugate_gradient(lambda v: A @ v, b, 40)))
    assert jnp.all(conjugate_gradient(lambda v: A @ v, jnp.zeros(6), 3) == 0)
