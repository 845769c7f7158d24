"""FOMAML and Reptile: their directions are what their docstrings say."""

import jax
import jax.numpy as jnp

import amaml
from oracles import batched, compiled_value_and_grad, relative_error, tanh_mlp_task

LOSS = amaml.losses.mse(amaml.models.mlp_apply)


def setup():
    params = amaml.models.mlp_init(jax.random.key(0), [1, 16, 16, 1], jnp.float64)
    task = tanh_mlp_task(jax.random.key(1), n=40)
    return params, task


def sgd(params, task, steps, step_size):
    u = params
    for _ in range(steps):
        g = jax.grad(LOSS)(u, task.support_x, task.support_y)
        u = jax.tree_util.tree_map(lambda p, gi: p - step_size * gi, u, g)
    return u


def test_fomaml_is_the_query_gradient_at_the_adapted_parameters():
    params, task = setup()
    value, grad = compiled_value_and_grad(amaml.FOMAML(10, 0.05), LOSS, params, batched(task))
    adapted = sgd(params, task, 10, 0.05)
    assert relative_error(grad, jax.grad(LOSS)(adapted, task.query_x, task.query_y)) < 1e-12
    assert abs(value - LOSS(adapted, task.query_x, task.query_y)) < 1e-12


def test_reptile_is_the_scaled_displacement_and_equals_the_gradient_for_one_step():
    params, task = setup()
    _, grad = compiled_value_and_grad(amaml.Reptile(10, 0.05), LOSS, params, batched(task))
    adapted = sgd(params, task, 10, 0.05)
    expected = jax.tree_util.tree_map(lambda p, u: (p - u) / (10 * 0.05), params, adapted)
    assert relative_error(grad, expected) < 1e-10
    _, grad_one = compiled_value_and_grad(amaml.Reptile(1, 0.05), LOSS, params, batched(task))
    assert relative_error(grad_one, jax.grad(LOSS)(params, task.support_x, task.support_y)) < 1e-10
