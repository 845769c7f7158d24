"""check_meta_grad tells exact gradients from approximate ones."""

import jax
import jax.numpy as jnp
import pytest

import amaml
from oracles import batched, tanh_mlp_task

pytestmark = pytest.mark.xdist_group("test_check")  # its tests share a module fixture

LOSS = amaml.losses.mse(amaml.models.mlp_apply)


@pytest.fixture(scope="module")
def checks():
    """One check of an exact, a continuous and a first-order method on the same problem."""
    params = amaml.models.mlp_init(jax.random.key(0), [1, 8, 8, 1], jnp.float64)
    tasks = batched(tanh_mlp_task(jax.random.key(1), n=20), tanh_mlp_task(jax.random.key(2), n=20))
    check = lambda m: amaml.check_meta_grad(m, LOSS, params, tasks, directions=4, refine=8)
    methods = {
        "exact": amaml.DiscreteAdjoint(10, 0.1),
        "continuous": amaml.AdjointMAML(10, 0.1),
        "first_order": amaml.FOMAML(10, 0.1),
    }
    return {name: check(method) for name, method in methods.items()}, params, tasks


def test_report_separates_exact_continuous_and_first_order_methods(checks):
    (exact, continuous, first_order), params, tasks = checks[0].values(), checks[1], checks[2]
    # The exact discrete adjoint is the gradient of its own forward loss.
    assert exact.finite_difference_error < 1e-7
    # The RK4/RK4 continuous adjoint is close to the continuous gradient, O(h^4) ...
    assert continuous.reference_error < 1e-4
    # ... but is not the gradient of its own forward computation to finite-difference accuracy.
    assert continuous.finite_difference_error > 10 * exact.finite_difference_error
    # Euler's MAML gradient is O(h) from the continuous gradient; FOMAML is further still.
    assert exact.reference_error > 10 * continuous.reference_error
    assert first_order.finite_difference_error > 1e-2
    assert "relative error" in str(continuous)
    assert amaml.check_meta_grad(amaml.IMAML(5, 0.1), LOSS, params, tasks, directions=2).reference_error is None


def last_line(check):
    return str(check).splitlines()[-1]


def test_the_report_ends_with_a_verdict(checks):
    exact, continuous, first_order = checks[0].values()
    assert last_line(exact).startswith("verdict: exact: agrees with finite differences of its own meta-loss")
    assert 0 < exact.noise_floor < 1e-8 and exact.finite_difference_error <= 10 * exact.noise_floor
    assert last_line(continuous).startswith("verdict: O(h^4) approximation")
    assert f"{100 * continuous.reference_error:.3g}% from the fine reference" in last_line(continuous)
    assert continuous.finite_difference_error > 100 * continuous.noise_floor  # resolved in float64
    assert last_line(first_order).startswith("verdict: first-order surrogate")


def test_float32_finite_differences_cannot_resolve_an_rk4_error_and_say_so():
    params = amaml.models.mlp_init(jax.random.key(0), [1, 8, 8, 1], jnp.float32)
    tasks = batched(*[tanh_mlp_task(jax.random.key(i), n=20, dtype=jnp.float32) for i in (1, 2)])
    method = amaml.AdjointMAML(40, 0.025)  # RK4/RK4: its O(h^4) error is ~1e-6 (float64 reference below)
    with jax.default_matmul_precision("highest"):
        check = amaml.check_meta_grad(method, LOSS, params, tasks, directions=4, refine=4)
    to64 = lambda tree: jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), tree)
    precise = amaml.check_meta_grad(method, LOSS, to64(params), to64(tasks), directions=4, refine=4)
    assert precise.finite_difference_error < 1e-5 < check.noise_floor  # the true error is under the floor
    assert check.finite_difference_error <= check.noise_floor
    line = last_line(check)
    assert line.startswith("verdict: float32 finite differences cannot resolve") and "float64" in line
    assert "noise floor" in line
