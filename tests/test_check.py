"""check_meta_grad tells exact gradients from approximate ones."""

import jax
import jax.numpy as jnp

import amaml
from oracles import batched, tanh_mlp_task

LOSS = amaml.losses.mse(amaml.models.mlp_apply)


def test_report_separates_exact_continuous_and_first_order_methods():
    params = amaml.models.mlp_init(jax.random.key(0), [1, 8, 8, 1], jnp.float64)
    tasks = batched(tanh_mlp_task(jax.random.key(1), n=20), tanh_mlp_task(jax.random.key(2), n=20))
    check = lambda m: amaml.check_meta_grad(m, LOSS, params, tasks, directions=4, refine=8)
    exact = check(amaml.DiscreteAdjoint(10, 0.1))
    continuous = check(amaml.AdjointMAML(10, 0.1, forward=amaml.RK4(), backward=amaml.RK4()))
    first_order = check(amaml.FOMAML(10, 0.1))
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
