"""Trajectories: Hermite interpolation order, checkpoint schemes and plans, the auto policy."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from amaml._checkpoints import Scheme, resolve_checkpoints
from amaml._sweep import Node, hermite
from oracles import fitted_slope


def test_hermite_midpoint_error_is_fourth_order():
    def u(t):
        return jnp.stack([jnp.sin(3 * t), jnp.exp(-t) * jnp.cos(t)])

    def du(t):
        return jnp.stack([3 * jnp.cos(3 * t), -jnp.exp(-t) * (jnp.cos(t) + jnp.sin(t))])

    hs = [0.2, 0.1, 0.05]
    errors = []
    for h in hs:
        t0 = 0.3
        left, right = Node(u(t0), du(t0)), Node(u(t0 + h), du(t0 + h))
        errors.append(float(jnp.max(jnp.abs(hermite(left, right, h, 0.5) - u(t0 + h / 2)))))
    assert abs(fitted_slope(hs, errors) - 4) < 0.3, errors


def test_hermite_is_exact_on_cubics_and_at_the_ends():
    coeffs = jnp.array([0.7, -1.2, 0.4, 2.0])
    u = lambda t: jnp.polyval(coeffs, t)[None]
    du = lambda t: jnp.polyval(jnp.polyder(coeffs), t)[None]
    left, right = Node(u(1.0), du(1.0)), Node(u(1.5), du(1.5))
    for s in (0.0, 0.25, 0.5, 0.9, 1.0):
        np.testing.assert_allclose(hermite(left, right, 0.5, s), u(1.0 + 0.5 * s), rtol=1e-13)


@pytest.mark.parametrize("steps,branch,depth", [(10, 3, 1), (23, 5, 1), (100, 10, 1), (400, 3, 5), (1000, 4, 4)])
def test_schemes_cover_every_step_with_little_padding(steps, branch, depth):
    scheme = Scheme.fit(steps, branch, depth)
    assert steps <= scheme.slots < steps + branch**depth


BUDGET = 16 * 2**20  # a fixed memory_budget (the default depends on the machine)


def test_auto_stores_small_trajectories_and_bounds_the_nodes_of_large_ones():
    assert resolve_checkpoints("auto", 1000, 8 * 1000, BUDGET) is None  # 8 MB: store
    for steps in (50, 1000, 10**5):
        scheme = resolve_checkpoints("auto", steps, BUDGET // 40, BUDGET)  # room for 40 nodes
        assert scheme.slots >= steps and scheme.nodes <= 40
    tight = resolve_checkpoints("auto", 10**4, BUDGET, BUDGET)  # room for one node: fewest nodes
    assert tight.nodes <= 3 * math.log(10**4)  # about e ln K
    assert resolve_checkpoints(7, 100, 1, BUDGET) == Scheme(7, 1, 15)
    assert resolve_checkpoints(5, 4, 1, BUDGET) is None  # more checkpoints than steps: store
    assert resolve_checkpoints(None, 10**6, 10**9, BUDGET) is None


@pytest.mark.parametrize("unroll", [4])  # not a divisor of 13: a remainder loop too
def test_unrolling_the_time_scans_does_not_change_the_gradient(unroll):
    import dataclasses

    import jax

    import amaml
    from oracles import batched, relative_error, tanh_mlp_task

    params = amaml.models.mlp_init(jax.random.key(0), [1, 8, 8, 1], jnp.float64)
    tasks = batched(tanh_mlp_task(jax.random.key(1), n=10))
    loss = amaml.losses.mse(amaml.models.mlp_apply)
    # the checkpointed sweep (its forward and reverse scans) and an unrolled MAML loop
    for method in (amaml.DiscreteAdjoint(13, 0.05, memory_budget=1), amaml.MAML(13, 0.05)):
        grad = jax.jit(lambda m, p, t: amaml.meta_value_and_grad(m, loss, p, t)[1], static_argnums=0)
        plain = grad(dataclasses.replace(method, unroll=None), params, tasks)
        unrolled = grad(dataclasses.replace(method, unroll=unroll), params, tasks)
        assert relative_error(unrolled, plain) < 1e-13, method
