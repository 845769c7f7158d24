"""Solvers: convergence order on y' = M y, and the exact transpose of a step."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.linalg import expm

import amaml
from oracles import fitted_slope

SOLVERS = [amaml.Euler(), amaml.Heun(), amaml.RK4()]


def linear_system(key, n=4):
    q = jax.random.normal(key, (n, n))
    return -(q @ q.T / n + 0.5 * jnp.eye(n))  # stable, non-diagonal


@pytest.mark.parametrize("solver", SOLVERS, ids=repr)
def test_global_error_falls_at_the_solver_order(solver):
    M = linear_system(jax.random.key(1))
    y0 = jnp.arange(1.0, 5.0)
    horizon = 1.0
    exact = expm(M * horizon) @ y0

    def solve(steps):
        h = horizon / steps
        y = y0
        for _ in range(steps):
            y = solver.step(lambda c, v: M @ v, y, h)[0]
        return y

    steps = [8, 16, 32]
    errors = [float(jnp.linalg.norm(solve(k) - exact)) for k in steps]
    slope = fitted_slope([horizon / k for k in steps], errors)
    assert abs(slope - solver.order) < 0.3, (solver, errors, slope)


@pytest.mark.parametrize("solver", SOLVERS, ids=repr)
def test_step_returns_the_field_at_the_start(solver):
    M = linear_system(jax.random.key(2))
    y0 = jnp.ones(4)
    _, k1 = solver.step(lambda c, v: M @ v, y0, 0.1)
    np.testing.assert_allclose(k1, M @ y0, rtol=1e-14)


@pytest.mark.parametrize("solver", SOLVERS, ids=repr)
def test_step_transpose_is_the_vjp_of_a_step(solver):
    """On a nonlinear field, step_transpose equals jax.vjp of step to rounding."""
    key = jax.random.key(3)
    W = jax.random.normal(key, (5, 5))

    def field(c, y):
        return -jnp.tanh(W @ y) - 0.3 * y**3

    y = jax.random.normal(jax.random.key(4), (5,))
    cot = jax.random.normal(jax.random.key(5), (5,))
    h = 0.3
    _, vjp = jax.vjp(lambda v: solver.step(field, v, h)[0], y)
    (expected,) = vjp(cot)

    def jac_t(state, v):
        return jax.vjp(lambda s: field(0.0, s), state)[1](v)[0]

    got, kappa_sum = solver.step_transpose(field, jac_t, y, cot, h)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)

    # kappa_sum is the cotangent of an additive parameter p in the field f(y) + p.
    _, vjp_p = jax.vjp(lambda p: solver.step(lambda c, v: field(c, v) + p, y, h)[0], jnp.zeros(5))
    np.testing.assert_allclose(kappa_sum, vjp_p(cot)[0], rtol=1e-12, atol=1e-14)


def test_solvers_are_equal_by_type_and_hashable():
    assert amaml.RK4() == amaml.RK4() and hash(amaml.RK4()) == hash(amaml.RK4())
    assert amaml.RK4() != amaml.Heun()
    assert amaml.RK4().needs_dense_output and not amaml.Heun().needs_dense_output
