"""Diverging trajectories: detected for every method, diagnosed, never averaged into theta."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import amaml
from oracles import linear_apply, linear_params, linear_tasks, quadratic

LOSS = amaml.losses.mse(linear_apply)
STEPS, H = 100, 0.1
METHODS = [
    amaml.AdjointMAML(STEPS, H),
    amaml.AdjointMAML(STEPS, H, forward=amaml.Euler(), backward=amaml.Euler(), checkpoints=7),
    amaml.DiscreteAdjoint(STEPS, H),
    amaml.MAML(STEPS, H),
    amaml.FOMAML(STEPS, H),
    amaml.Reptile(STEPS, H),
    amaml.IMAML(STEPS, H),
]
IDS = [f"{type(m).__name__}{i}" for i, m in enumerate(METHODS)]
BAD = 1  # the task whose inputs are scaled up until h * lambda_max >> 2


def problem(batch=3):
    params = linear_params(jax.random.key(0), 3)
    tasks = linear_tasks(jax.random.key(1), batch, 20, 20, 3)
    scale = jnp.ones(batch).at[BAD].set(30.0)[:, None, None]
    return params, tasks._replace(support_x=tasks.support_x * scale)


def gradient_descent_blowup_step(params, task, steps, h):
    """Oracle: the first plain gradient-descent step with a non-finite state or loss."""
    u = params
    for k in range(1, steps + 1):
        grad = jax.grad(LOSS)(u, task.support_x, task.support_y)
        u = jax.tree_util.tree_map(lambda p, g: p - h * g, u, grad)
        flat = np.concatenate([np.ravel(u["b"]), np.ravel(u["w"])])
        if not (np.all(np.isfinite(flat)) and np.isfinite(LOSS(u, task.support_x, task.support_y))):
            return k
    return None


@pytest.mark.parametrize("method", METHODS, ids=IDS)
def test_every_method_flags_the_diverged_task_and_withholds_the_update(method):
    params, tasks = problem()
    optimizer = optax.sgd(0.1)
    step = jax.jit(lambda p, s, t: amaml.meta_train_step(method, LOSS, optimizer, p, s, t))
    result = step(params, optimizer.init(params), tasks)
    assert np.array_equal(np.asarray(result.diverged), np.arange(3) == BAD)
    assert all(np.array_equal(a, b) for a, b in zip(jax.tree_util.tree_leaves(result.params),
                                                     jax.tree_util.tree_leaves(params)))


def test_error_names_the_task_the_step_and_a_stable_step_size():
    method = amaml.MAML(STEPS, H)
    params, tasks = problem()
    with pytest.raises(amaml.DivergenceError) as caught:
        amaml.meta_value_and_grad(method, LOSS, params, tasks)  # eager: raises itself
    error = caught.value
    bad_task = jax.tree_util.tree_map(lambda a: a[BAD], tasks)
    assert error.task == BAD and error.phase == "forward" and error.count == 1
    assert error.step == gradient_descent_blowup_step(params, bad_task, STEPS, H)
    hessian, _ = quadratic(bad_task.support_x, bad_task.support_y)  # X^T X / n, the mse Hessian
    lam = float(np.linalg.eigvalsh(np.asarray(hessian))[-1])
    assert error.largest_eigenvalue == pytest.approx(lam, rel=1e-6)
    assert error.suggested_step_size == pytest.approx(1 / lam, rel=1e-6)
    assert f"task {BAD}" in str(error) and f"step {error.step}" in str(error)
    # The suggestion is stable: with it, every task's meta-gradient is finite.
    fixed = amaml.MAML(STEPS, error.suggested_step_size)
    value, grad = amaml.meta_value_and_grad(fixed, LOSS, params, tasks)
    assert np.isfinite(value) and all(np.all(np.isfinite(g)) for g in jax.tree_util.tree_leaves(grad))


def test_skipping_averages_over_the_healthy_tasks_only():
    method = amaml.AdjointMAML(STEPS, H)
    params, tasks = problem()
    optimizer = optax.sgd(0.1)
    skip = amaml.meta_train_step(method, LOSS, optimizer, params, optimizer.init(params), tasks,
                                 skip_diverged=True)
    healthy = jax.tree_util.tree_map(lambda a: a[np.arange(3) != BAD], tasks)
    reference = amaml.meta_train_step(method, LOSS, optimizer, params, optimizer.init(params), healthy)
    assert int(skip.diverged.sum()) == 1 and not bool(reference.diverged.any())
    for a, b in zip(jax.tree_util.tree_leaves(skip.params), jax.tree_util.tree_leaves(reference.params)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)
        assert np.all(np.isfinite(a))
    assert float(skip.meta_loss) == pytest.approx(float(reference.meta_loss), rel=1e-12)


def test_all_tasks_diverged_leaves_theta_unchanged_even_when_skipping():
    method = amaml.FOMAML(STEPS, H)
    params, tasks = problem(batch=2)
    tasks = tasks._replace(support_x=tasks.support_x * 30.0)
    optimizer = optax.adam(0.1)
    state = optimizer.init(params)
    result = amaml.meta_train_step(method, LOSS, optimizer, params, state, tasks, skip_diverged=True)
    assert bool(result.diverged.all()) and np.isnan(result.meta_loss)
    for a, b in zip(jax.tree_util.tree_leaves((result.params, result.opt_state)),
                    jax.tree_util.tree_leaves((params, state))):
        assert np.array_equal(a, b)


def test_power_iteration_finds_the_largest_positive_eigenvalue_under_negative_curvature():
    # L(u) = 0.5 u^T D u with eigenvalues {-5, 1, 3}: dominant in modulus is -5, largest is 3.
    from amaml._divergence import largest_eigenvalue
    from amaml._flow import GradientFlow

    d = jnp.array([-5.0, 1.0, 3.0])
    flow = GradientFlow(lambda u, x, y: 0.5 * jnp.sum(d * u**2), None, None, jnp.array([0.3, -0.2, 0.5]))
    assert float(largest_eigenvalue(flow)) == pytest.approx(3.0, rel=1e-6)
