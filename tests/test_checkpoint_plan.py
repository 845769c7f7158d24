"""amaml.checkpoint_plan says what the adjoint sweep keeps, and XLA's memory plan agrees."""

import dataclasses

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
    assert plan.bytes_per_task == 11 * plan.node_bytes
    euler = amaml.checkpoint_plan(amaml.DiscreteAdjoint(10, 0.1), params)
    assert euler.node_bytes == 97 * 8  # the discrete adjoint recomputes its stages: states only
    one_level = amaml.checkpoint_plan(amaml.DiscreteAdjoint(100, 0.1, checkpoints=7), params)
    assert (one_level.levels, one_level.branch, one_level.leaf) == (1, 7, 15)
    assert one_level.extra_forward_solves == 1 and "1 extra forward solve)" in one_level.description


def test_memory_budget_changes_the_plan():
    params = mlp([1, 8, 8, 1])
    method = amaml.AdjointMAML(1000, 0.001)
    roomy = amaml.checkpoint_plan(method, params)
    assert roomy.levels == 0 and roomy.bytes_per_task <= method.memory_budget
    for budget in (roomy.bytes_per_task // 4, roomy.bytes_per_task // 40, 1):
        tight = amaml.checkpoint_plan(dataclasses.replace(method, memory_budget=budget), params)
        assert tight.levels >= 1 and tight.branch**tight.levels * tight.leaf >= 1000
        assert tight.stored_nodes < roomy.stored_nodes
        assert tight.bytes_per_task <= budget or budget < 40 * tight.node_bytes
    assert amaml.checkpoint_plan(dataclasses.replace(method, memory_budget=1), params).levels >= 3


def test_the_readme_wide_model_at_k1000_uses_four_levels():
    params = mlp([1, 512, 512, 1], jnp.float32)  # the bench's wide workload
    plan = amaml.checkpoint_plan(amaml.AdjointMAML(1000, 0.01), params)
    assert (plan.levels, plan.branch, plan.leaf) == (4, 4, 4)
    assert plan.description == "4 levels of 4 segment starts, leaf 4 (4 extra forward solves)"
    assert plan.stored_nodes == 4 * 4 + 4 + 1


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
