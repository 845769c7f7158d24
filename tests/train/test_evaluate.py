"""Fine-tuning curves against hand-written loops."""

import jax
import jax.numpy as jnp
import numpy as np
import optax

import amaml
from amaml.train import AdamFineTuning, InnerLoopFineTuning, nrmse_curve
from oracles import batched, tanh_mlp_task

APPLY = amaml.models.mlp_apply
LOSS = amaml.losses.mse(APPLY)


def setup():
    params = amaml.models.mlp_init(jax.random.key(0), [1, 8, 8, 1], jnp.float64)
    tasks = batched(tanh_mlp_task(jax.random.key(1), n=12), tanh_mlp_task(jax.random.key(2), n=12))
    return params, tasks


def rmse(p, task):
    return float(jnp.sqrt(jnp.mean((APPLY(p, task.query_x) - task.query_y) ** 2)))


def test_adam_curve_matches_a_manual_optax_loop():
    params, tasks = setup()
    curve = np.asarray(nrmse_curve(AdamFineTuning(1e-2), LOSS, APPLY, params, tasks, 30, 10))
    assert curve.shape == (4, 2)
    task = jax.tree_util.tree_map(lambda a: a[1], tasks)
    opt = optax.adam(1e-2)
    p, state = params, opt.init(params)
    expected = [rmse(p, task)]
    for i in range(30):
        with jax.numpy_dtype_promotion("standard"):  # optax's bias correction mixes float and int32
            updates, state = opt.update(jax.grad(LOSS)(p, task.support_x, task.support_y), state, p)
        p = optax.apply_updates(p, updates)
        if (i + 1) % 10 == 0:
            expected.append(rmse(p, task))
    np.testing.assert_allclose(curve[:, 1], expected, rtol=1e-8)
    assert curve[-1].mean() < curve[0].mean()


def test_inner_loop_curve_continues_the_methods_own_adaptation():
    params, tasks = setup()
    method = amaml.AdjointMAML(10, 0.05, prox=0.5)
    curve = np.asarray(nrmse_curve(InnerLoopFineTuning(method), LOSS, APPLY, params, tasks, 20, 10))
    task = jax.tree_util.tree_map(lambda a: a[0], tasks)
    adapted = amaml.adapt(method, LOSS, params, task.support_x, task.support_y)
    np.testing.assert_allclose(curve[1, 0], rmse(adapted, task), rtol=1e-10)
    # 20 steps = 10 more with the proximal centre still at the initialisation
    twice = amaml.adapt(amaml.AdjointMAML(20, 0.05, prox=0.5), LOSS, params, task.support_x, task.support_y)
    np.testing.assert_allclose(curve[2, 0], rmse(twice, task), rtol=1e-10)
