"""DiscreteAdjoint is MAML's exact gradient; checkpointing changes nothing but memory."""

import dataclasses

import jax
import jax.numpy as jnp
import pytest

import amaml
from amaml._params import flat_loss, flatten
from oracles import batched, relative_error, tanh_mlp_task, unrolled_maml_loss

LOSS = amaml.losses.mse(amaml.models.mlp_apply)


@pytest.fixture(scope="module")
def mlp_problem():
    params = amaml.models.mlp_init(jax.random.key(0), [1, 32, 32, 1], jnp.float64)
    tasks = batched(tanh_mlp_task(jax.random.key(1), n=100))
    return params, tasks


def grad_of(method, params, tasks, loss=LOSS):
    return jax.jit(lambda p, t: amaml.meta_value_and_grad(method, loss, p, t))(params, tasks)


def test_discrete_adjoint_euler_is_maml_and_both_are_autodiff_of_a_python_loop(mlp_problem):
    params, tasks = mlp_problem
    # 12 steps: the Python loop compiles unrolled (tests/test_meta_params.py runs K=50 with every field).
    value_da, grad_da = grad_of(amaml.DiscreteAdjoint(12, 0.04, forward=amaml.Euler()), params, tasks)
    value_maml, grad_maml = grad_of(amaml.MAML(12, 0.04), params, tasks)
    task = jax.tree_util.tree_map(lambda a: a[0], tasks)
    value_ref, grad_ref = jax.jit(jax.value_and_grad(lambda p: unrolled_maml_loss(LOSS, p, task, 12, 0.04)))(params)
    assert relative_error(grad_da, grad_maml) < 1e-10
    assert relative_error(grad_da, grad_ref) < 1e-10
    assert relative_error(grad_maml, grad_ref) < 1e-10
    assert abs(value_da - value_ref) <= 1e-12 * abs(value_ref)
    assert abs(value_maml - value_ref) <= 1e-12 * abs(value_ref)


@pytest.mark.parametrize("solver", [amaml.Heun(), amaml.RK4()], ids=repr)
def test_discrete_adjoint_of_higher_order_solvers_is_autodiff_of_the_solve(mlp_problem, solver):
    params, tasks = mlp_problem
    prox = 0.5
    method = amaml.DiscreteAdjoint(12, 0.05, forward=solver, prox=prox)
    _, grad = grad_of(method, params, tasks)

    def autodiff(p):  # jax.grad through the same solve; method.value is the forward only
        theta, unravel = flatten(p)
        task = jax.tree_util.tree_map(lambda a: a[0], tasks)
        return method.value(flat_loss(LOSS, unravel), theta, task)

    assert relative_error(grad, jax.grad(autodiff)(params)) < 1e-10


@pytest.mark.parametrize(
    "method",
    [
        amaml.DiscreteAdjoint(24, 0.02, forward=amaml.Euler()),
        amaml.DiscreteAdjoint(24, 0.02, forward=amaml.RK4(), prox=0.3),
        amaml.AdjointMAML(24, 0.02, forward=amaml.RK4(), backward=amaml.RK4(), prox=0.3),
    ],  # Heun shares the checkpointed sweep of RK4, stage for stage (left out for the suite's time)
    ids=lambda m: f"{type(m).__name__}-{m.inner_solver!r}",
)
def test_checkpointed_equals_stored(method):
    """4 segment starts of 24 steps (no padding, no masked step), and recursive auto
    checkpointing (2 levels of 3 starts, leaf 3: 3 padding slots masked)."""
    params = amaml.models.mlp_init(jax.random.key(0), [1, 8, 8, 1], jnp.float64)
    tasks = batched(tanh_mlp_task(jax.random.key(1), n=20), tanh_mlp_task(jax.random.key(2), n=20))
    stored = grad_of(dataclasses.replace(method, checkpoints=None), params, tasks)
    for checkpoints, budget, shape in ((4, None, (1, 0)), ("auto", 1, (2, 3))):
        checked_method = dataclasses.replace(method, checkpoints=checkpoints, memory_budget=budget)
        plan = amaml.checkpoint_plan(checked_method, params, tasks)
        assert (plan.levels, plan.padding) == shape
        checked = grad_of(checked_method, params, tasks)
        assert relative_error(checked[1], stored[1]) < 1e-13, checkpoints
        assert abs(checked[0] - stored[0]) <= 1e-14 * abs(stored[0]), checkpoints


def test_auto_checkpoints_keep_compiled_memory_nearly_flat_in_steps():
    """A wide model where storing every state would dominate: XLA's own memory plan."""
    params = amaml.models.mlp_init(jax.random.key(0), [1, 256, 256, 1], jnp.float64)
    tasks = batched(tanh_mlp_task(jax.random.key(1), n=20))

    def temp_bytes(method):
        fn = jax.jit(lambda p, t: amaml.meta_value_and_grad(method, LOSS, p, t))
        return fn.lower(params, tasks).compile().memory_analysis().temp_size_in_bytes

    budget = 16 * 2**20  # 15 states of this model (a fixed budget: the default depends on the machine)
    auto_100 = temp_bytes(amaml.AdjointMAML(100, 0.01, memory_budget=budget))
    auto_1600 = temp_bytes(amaml.AdjointMAML(1600, 0.01, memory_budget=budget))
    stored_400 = temp_bytes(amaml.AdjointMAML(400, 0.01, checkpoints=None))
    assert auto_1600 < 0.25 * stored_400
    assert auto_1600 < 1.5 * auto_100  # 16x the steps, nearly the same memory
