"""The diffrax comparison computes the same meta-gradient as amaml's exact discrete adjoint.

jax.grad through ``diffrax.diffeqsolve`` (``RecursiveCheckpointAdjoint``) on the same fixed grid
and tableau is the exact gradient of the same discrete solution: it must equal
``DiscreteAdjoint``'s to rounding, whatever diffrax keeps of the trajectory.
"""

import jax
import jax.numpy as jnp
import pytest

import amaml
from amaml.experiments._bench_compare import DiffraxComparison
from amaml.experiments._diffrax import DiffraxDiscretise
from oracles import batched, relative_error, tanh_mlp_task

pytest.importorskip("diffrax")
LOSS = amaml.losses.mse(amaml.models.mlp_apply)
STEPS, H = 12, 0.05


@pytest.fixture(scope="module")
def problem():
    params = amaml.models.mlp_init(jax.random.key(0), [1, 16, 16, 1], jnp.float64)
    tasks = batched(tanh_mlp_task(jax.random.key(1), n=40), tanh_mlp_task(jax.random.key(2), n=40))
    return params, tasks


def grad_of(method, params, tasks):
    return jax.jit(lambda p, t: amaml.meta_value_and_grad(method, LOSS, p, t))(params, tasks)


@pytest.mark.parametrize(
    "solver, checkpoints",
    [(amaml.Euler(), None), (amaml.Heun(), 3), (amaml.RK4(), "auto")],  # each solver, each way of keeping states
)
def test_diffrax_gradient_equals_the_discrete_adjoint(problem, solver, checkpoints):
    params, tasks = problem
    value, grad = grad_of(amaml.DiscreteAdjoint(STEPS, H, forward=solver), params, tasks)
    value_dfx, grad_dfx = grad_of(DiffraxDiscretise(STEPS, H, forward=solver, checkpoints=checkpoints), params, tasks)
    assert abs(value - value_dfx) <= 1e-12 * abs(value)
    assert relative_error(grad_dfx, grad) < 1e-10


def test_diffrax_differentiates_rates_and_a_learned_horizon_like_the_discrete_adjoint(problem):
    params, tasks = problem
    meta = amaml.MetaParams(
        init=params, rates=jax.tree_util.tree_map(lambda p: jnp.full((), 0.8), params), horizon=jnp.asarray(0.5)
    )
    value, grad = grad_of(amaml.DiscreteAdjoint(STEPS, H), meta, tasks)
    value_dfx, grad_dfx = grad_of(DiffraxDiscretise(STEPS, H), meta, tasks)
    assert abs(value - value_dfx) <= 1e-12 * abs(value)
    for field in ("init", "rates", "horizon"):
        assert relative_error(getattr(grad_dfx, field), getattr(grad, field)) < 1e-10, field


def test_bad_options_are_rejected_by_name():
    with pytest.raises(TypeError, match="`forward`"):
        DiffraxDiscretise(5, 0.1, forward="rk4")
    with pytest.raises(ValueError, match="`checkpoints`"):
        DiffraxDiscretise(5, 0.1, checkpoints=0)
    with pytest.raises(ValueError, match="`solvers`"):
        DiffraxComparison(solvers=("rk45",))
