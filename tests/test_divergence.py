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
    assert all(
        np.array_equal(a, b)
        for a, b in zip(jax.tree_util.tree_leaves(result.params), jax.tree_util.tree_leaves(params))
    )


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
    skip = amaml.meta_train_step(method, LOSS, optimizer, params, optimizer.init(params), tasks, skip_diverged=True)
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
    for a, b in zip(
        jax.tree_util.tree_leaves((result.params, result.opt_state)), jax.tree_util.tree_leaves((params, state))
    ):
        assert np.array_equal(a, b)


def test_power_iteration_finds_the_largest_positive_eigenvalue_under_negative_curvature():
    # L(u) = 0.5 u^T D u with eigenvalues {-5, 1, 3}: dominant in modulus is -5, largest is 3.
    from amaml._divergence import largest_eigenvalue
    from amaml._flow import GradientFlow

    d = jnp.array([-5.0, 1.0, 3.0])
    flow = GradientFlow(lambda u, x, y: 0.5 * jnp.sum(d * u**2), None, None, jnp.array([0.3, -0.2, 0.5]))
    assert float(largest_eigenvalue(flow)) == pytest.approx(3.0, rel=1e-6)


def exploding_problem():
    """Task BAD with h * lambda_max = 4: the inner loop grows by 3x a step, its loss by ~9x."""
    params, tasks = problem()
    hessian, _ = quadratic(tasks.support_x[BAD], tasks.support_y[BAD])
    lam = float(np.linalg.eigvalsh(np.asarray(hessian))[-1])
    return params, tasks, 4.0 / lam


def test_an_exploding_but_finite_meta_loss_counts_as_diverged():
    params, tasks, h = exploding_problem()
    method = amaml.MAML(68, h)
    optimizer = optax.sgd(0.1)
    state = optimizer.init(params)
    values = jax.vmap(
        lambda t: amaml.meta_value_and_grad(
            method, LOSS, params, jax.tree_util.tree_map(lambda a: a[None], t), max_meta_loss=None
        )[0]
    )(tasks)
    assert 1e50 < float(values[BAD]) < 1e100 and np.all(np.isfinite(values))  # huge, not overflowed
    assert np.all(np.asarray(values[np.arange(3) != BAD]) < 1e3)

    # Without the threshold (the old guard) the update goes through, poisoned by ~1e65.
    let_through = amaml.meta_train_step(method, LOSS, optimizer, params, state, tasks, max_meta_loss=None)
    assert not bool(let_through.diverged.any())
    assert max(float(jnp.max(jnp.abs(a))) for a in jax.tree_util.tree_leaves(let_through.params)) > 1e30

    step = jax.jit(lambda p, s, t: amaml.meta_train_step(method, LOSS, optimizer, p, s, t))
    result = step(params, state, tasks)
    assert np.array_equal(np.asarray(result.diverged), np.arange(3) == BAD)
    assert all(
        np.array_equal(a, b)
        for a, b in zip(jax.tree_util.tree_leaves(result.params), jax.tree_util.tree_leaves(params))
    )
    with pytest.raises(amaml.DivergenceError) as caught:
        amaml.raise_if_diverged(result.diverged, method, LOSS, params, tasks)
    error = caught.value
    assert error.phase == "meta-loss" and error.exceeded and error.step is None and error.task == BAD
    assert error.meta_loss == pytest.approx(float(values[BAD]), rel=1e-9)
    text = str(error)
    assert "meta-loss" in text and "exceeds max_meta_loss=1e+10" in text and "non-finite" not in text
    assert "raise max_meta_loss" in text and "skip_diverged=True" in text

    # The advice names the caller's own knobs.
    knobs = amaml.DivergenceKnobs(
        skip="meta.on_divergence = skip", threshold="meta.max_meta_loss", step_size="method.step_size"
    )
    with pytest.raises(amaml.DivergenceError) as caught:
        amaml.raise_if_diverged(result.diverged, method, LOSS, params, tasks, knobs=knobs)
    text = str(caught.value)
    assert "meta.on_divergence = skip" in text and "raise meta.max_meta_loss" in text
    assert "method.step_size=" in text and "skip_diverged" not in text

    # The eager check in meta_value_and_grad uses the same threshold, and can be relaxed.
    with pytest.raises(amaml.DivergenceError, match="max_meta_loss"):
        amaml.meta_value_and_grad(method, LOSS, params, tasks)
    amaml.meta_value_and_grad(method, LOSS, params, tasks, max_meta_loss=1e100)
    with pytest.raises(ValueError, match="`max_meta_loss`"):
        amaml.meta_value_and_grad(method, LOSS, params, tasks, max_meta_loss=-1.0)


def test_task_diverged_threshold():
    values = jnp.array([1.0, -2e10, jnp.nan, 5e9])
    grads = jnp.zeros((4, 2))
    assert amaml.task_diverged(values, grads).tolist() == [False, True, True, False]
    assert amaml.task_diverged(values, grads, 1e9).tolist() == [False, True, True, True]
    assert amaml.task_diverged(values, grads, None).tolist() == [False, False, True, False]


def test_divergence_with_rates_and_a_horizon_names_the_step_t_over_k_and_the_preconditioned_curvature():
    """With MetaParams the step is T/K and the curvature that of D^1/2 H D^1/2, D = diag(rates)."""
    params, tasks = problem()
    rates = {"b": jnp.asarray(0.5), "w": jnp.array([1.0, 2.0, 0.25])}
    meta = amaml.MetaParams(params, rates=rates, horizon=jnp.asarray(STEPS * H))
    with pytest.raises(amaml.DivergenceError) as caught:
        amaml.meta_value_and_grad(amaml.DiscreteAdjoint(STEPS, 1.0), LOSS, meta, tasks)
    error = caught.value
    assert error.task == BAD and error.phase == "forward" and error.step_size == pytest.approx(H)
    bad_task = jax.tree_util.tree_map(lambda a: a[BAD], tasks)
    hessian, _ = quadratic(bad_task.support_x, bad_task.support_y)
    root = np.sqrt(np.array([0.5, 1.0, 2.0, 0.25]))  # flat order [b, w]
    lam = float(np.linalg.eigvalsh(root[:, None] * np.asarray(hessian) * root[None, :])[-1])
    assert error.largest_eigenvalue == pytest.approx(lam, rel=1e-6)
    stable = meta._replace(horizon=jnp.asarray(STEPS * error.suggested_step_size))
    value, grad = amaml.meta_value_and_grad(amaml.DiscreteAdjoint(STEPS, 1.0), LOSS, stable, tasks)
    assert np.isfinite(value) and all(np.all(np.isfinite(g)) for g in jax.tree_util.tree_leaves(grad))
