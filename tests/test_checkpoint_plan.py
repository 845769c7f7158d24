"""amaml.checkpoint_plan says what the adjoint sweep keeps, and XLA's memory plan agrees."""

import dataclasses
import os

import jax
import jax.numpy as jnp
import pytest

import amaml
from oracles import batched, tanh_mlp_task

LOSS = amaml.losses.mse(amaml.models.mlp_apply)


def mlp(widths, dtype=jnp.float64):
    return amaml.models.mlp_init(jax.random.key(0), widths, dtype)


def test_short_trajectories_store_every_state():
    params = mlp([1, 8, 8, 1])  # P = 97
    plan = amaml.checkpoint_plan(amaml.AdjointMAML(10, 0.1), params)
    assert plan.stored_nodes == 11 and plan.levels == 0 and plan.extra_forward_solves == 0
    assert plan.description == "stores all 11 states"
    assert plan.node_bytes == 97 * 8 * 2  # RK4 backward keeps the vector field too
    assert plan.bytes_per_task == 11 * plan.node_bytes == plan.bytes_total
    euler = amaml.checkpoint_plan(amaml.DiscreteAdjoint(10, 0.1), params)
    assert euler.node_bytes == 97 * 8  # the discrete adjoint recomputes its stages: states only
    one_level = amaml.checkpoint_plan(amaml.DiscreteAdjoint(100, 0.1, checkpoints=7), params)
    assert (one_level.levels, one_level.branch, one_level.leaf, one_level.padding) == (1, 7, 15, 5)
    assert one_level.extra_forward_solves == 1
    assert one_level.description.endswith("(1 extra forward solve, 100 steps recomputed, 5 padding)")
    exact = amaml.checkpoint_plan(amaml.DiscreteAdjoint(100, 0.1, checkpoints=10), params)
    assert exact.padding == 0 and "padding" not in exact.description


# K = 1000 under "auto": one level is 32 starts + a leaf of 32 (65 nodes), two levels 2 * 10 + 10 + 1 = 31,
# three 3 * 6 + 5 + 1 = 24, four 4 * 4 + 4 + 1 = 21. The budget is shared by the meta-batch:
# nodes per task = budget // (B * node).
@pytest.mark.parametrize(
    "nodes_per_task, expected",
    [(1001, (0, 0, 1000)), (1000, (1, 32, 32)), (65, (1, 32, 32)), (64, (2, 10, 10)), (31, (2, 10, 10))]
    + [(30, (3, 6, 5)), (1, (4, 4, 4))],  # (1: none fits; four levels hold the fewest, 21 nodes)
)
def test_auto_stores_everything_that_fits_else_the_fewest_levels_that_fit(nodes_per_task, expected):
    params = mlp([1, 8, 8, 1])  # node: 97 * 8 * 2 bytes
    tasks = 4
    budget = nodes_per_task * 97 * 8 * 2 * tasks
    plan = amaml.checkpoint_plan(amaml.AdjointMAML(1000, 0.001, memory_budget=budget), params, tasks)
    assert (plan.levels, plan.branch, plan.leaf) == expected
    assert plan.tasks == tasks and plan.bytes_total == tasks * plan.bytes_per_task
    assert plan.bytes_total <= budget or nodes_per_task < 21
    assert plan.extra_forward_solves == plan.levels


def test_the_budget_is_for_the_whole_meta_batch():
    params = mlp([1, 8, 8, 1])
    method = amaml.AdjointMAML(1000, 0.001, memory_budget=16 * 1001 * 97 * 8 * 2)
    assert amaml.checkpoint_plan(method, params, 16).levels == 0
    assert amaml.checkpoint_plan(method, params, 17).levels == 1
    tasks = batched(*[tanh_mlp_task(jax.random.key(i), n=4) for i in range(17)])
    assert amaml.checkpoint_plan(method, params, tasks).levels == 1  # the count is the tasks' leading axis
    with pytest.raises(ValueError, match="`tasks`"):
        amaml.checkpoint_plan(method, params, 0)


def test_the_default_budget_is_a_quarter_of_the_devices_memory():
    budget = amaml.default_memory_budget()
    stats = jax.devices()[0].memory_stats() or {}
    total = stats.get("bytes_limit") or os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert budget == int(0.25 * total)
    params = mlp([1, 512, 512, 1], jnp.float32)  # the bench's wide workload: 2.1 MB per RK4 node
    default = amaml.checkpoint_plan(amaml.AdjointMAML(100, 0.01), params, 5)
    explicit = amaml.checkpoint_plan(amaml.AdjointMAML(100, 0.01, memory_budget=budget), params, 5)
    assert default == explicit
    # 5 x 101 of its states take 1.07 GB: stored outright wherever a quarter of memory exceeds that
    assert (default.levels == 0) == (budget >= default.bytes_total)


def test_plans_agree_with_the_compiled_memory():
    params = mlp([1, 64, 64, 1])  # P = 4353: 35 kB per state
    tasks = batched(tanh_mlp_task(jax.random.key(1), n=8))

    def temp_bytes(method):
        fn = jax.jit(lambda p, t: amaml.meta_value_and_grad(method, LOSS, p, t))
        return fn.lower(params, tasks).compile().memory_analysis().temp_size_in_bytes

    stored = amaml.DiscreteAdjoint(200, 0.01)
    recursive = dataclasses.replace(stored, memory_budget=1)
    stored_plan, recursive_plan = amaml.checkpoint_plan(stored, params), amaml.checkpoint_plan(recursive, params)
    assert stored_plan.levels == 0 and recursive_plan.levels >= 2
    stored_temp, recursive_temp = temp_bytes(stored), temp_bytes(recursive)
    assert stored_temp >= 0.9 * stored_plan.bytes_per_task
    saved = stored_plan.bytes_per_task - recursive_plan.bytes_per_task
    assert stored_temp - recursive_temp >= 0.5 * saved


def test_methods_without_a_trajectory_have_no_plan():
    for method in (amaml.MAML(5, 0.1), amaml.FOMAML(5, 0.1), amaml.IMAML(5, 0.1), amaml.Reptile(5, 0.1)):
        with pytest.raises(TypeError, match="adjoint method"):
            amaml.checkpoint_plan(method, mlp([1, 4, 1]))
