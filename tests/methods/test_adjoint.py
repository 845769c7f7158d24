"""AdjointMAML against the closed form of linear regression, and its convergence order."""

import jax
import jax.numpy as jnp
import pytest

import amaml
from amaml._params import flat_loss, flatten
from oracles import (
    closed_form_meta_grad,
    closed_form_prox_objective,
    fitted_slope,
    linear_apply,
    linear_params,
    linear_tasks,
    relative_error,
    tanh_mlp_task,
)


@pytest.fixture(scope="module")
def linear():
    tasks = linear_tasks(jax.random.key(0), 1, 20, 20, 3)
    task = jax.tree_util.tree_map(lambda a: a[0], tasks)
    params = linear_params(jax.random.key(1), 3)
    theta, unravel = flatten(params)
    return flat_loss(amaml.losses.mse(linear_apply), unravel), theta, task


def test_rk4_rk4_matches_the_closed_form_at_k200(linear):
    loss, theta, task = linear
    method = amaml.AdjointMAML(steps=200, step_size=0.01, forward=amaml.RK4(), backward=amaml.RK4())
    _, grad = jax.jit(lambda t: method.value_and_grad(loss, t, task))(theta)
    assert relative_error(grad, closed_form_meta_grad(theta, task, 2.0)) < 1e-6


@pytest.mark.parametrize("backward", [amaml.Euler(), amaml.Heun(), amaml.RK4()], ids=repr)
def test_error_falls_at_the_backward_scheme_order(linear, backward):
    loss, theta, task = linear
    horizon, steps = 1.0, [5, 10, 20]
    exact = closed_form_meta_grad(theta, task, horizon)
    errors = []
    for k in steps:
        method = amaml.AdjointMAML(k, horizon / k, forward=amaml.RK4(), backward=backward)
        errors.append(relative_error(method.value_and_grad(loss, theta, task)[1], exact))
    slope = fitted_slope([horizon / k for k in steps], errors)
    assert abs(slope - backward.order) < 0.3, (errors, slope)


def test_prox_variant_matches_the_differentiated_closed_form(linear):
    loss, theta, task = linear
    prox = 0.7
    method = amaml.AdjointMAML(200, 0.01, forward=amaml.RK4(), backward=amaml.RK4(), prox=prox)
    value, grad = jax.jit(lambda t: method.value_and_grad(loss, t, task))(theta)
    expected = jax.grad(closed_form_prox_objective)(theta, task, 2.0, prox)
    assert relative_error(grad, expected) < 1e-6
    assert abs(value - closed_form_prox_objective(theta, task, 2.0, prox)) < 1e-8 * abs(value)


@pytest.mark.parametrize("forward,backward", [(amaml.RK4(), amaml.Heun()), (amaml.RK4(), amaml.RK4())], ids=repr)
def test_nonlinear_order_against_a_fine_exact_adjoint(forward, backward):
    """On a tanh MLP the Hessian varies along the path; RK4 backward stays fourth order
    only if the mid-step states are interpolated to O(h^4) (cubic Hermite)."""
    params = amaml.models.mlp_init(jax.random.key(3), [1, 8, 8, 1], jnp.float64)
    theta, unravel = flatten(params)
    loss = flat_loss(amaml.losses.mse(amaml.models.mlp_apply), unravel)
    task = tanh_mlp_task(jax.random.key(4), n=30)
    horizon = 1.0
    reference = amaml.DiscreteAdjoint(640, horizon / 640, forward=amaml.RK4())
    exact = jax.jit(lambda t: reference.value_and_grad(loss, t, task)[1])(theta)
    steps = [10, 20, 40]
    errors = []
    for k in steps:
        method = amaml.AdjointMAML(k, horizon / k, forward=forward, backward=backward)
        errors.append(relative_error(jax.jit(lambda t, m=method: m.value_and_grad(loss, t, task)[1])(theta), exact))
    slope = fitted_slope([horizon / k for k in steps], errors)
    order = min(forward.order, backward.order)
    assert abs(slope - order) < 0.3, (errors, slope)
