"""The public entry points: batching, pytrees, jit, dtypes, classification, bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import amaml
from oracles import batched, compiled_value_and_grad, relative_error, tanh_mlp_task

LOSS = amaml.losses.mse(amaml.models.mlp_apply)

ALL_METHODS = [
    amaml.AdjointMAML(8, 0.05),
    amaml.AdjointMAML(8, 0.05, forward=amaml.Euler(), backward=amaml.RK4(), prox=0.5, checkpoints=3),
    amaml.DiscreteAdjoint(8, 0.05),
    amaml.MAML(8, 0.05),
    amaml.FOMAML(8, 0.05),
    amaml.Reptile(8, 0.05),
    amaml.IMAML(8, 0.05),
]
IDS = [f"{type(m).__name__}{i}" for i, m in enumerate(ALL_METHODS)]


def problem(dtype=jnp.float64, batch=3):
    params = amaml.models.mlp_init(jax.random.key(0), [1, 8, 8, 1], dtype)
    tasks = batched(*[tanh_mlp_task(jax.random.key(i + 1), n=15, dtype=dtype) for i in range(batch)])
    return params, tasks


@pytest.mark.parametrize("method", ALL_METHODS, ids=IDS)
def test_batched_result_is_the_mean_of_per_task_results(method):
    params, tasks = problem()
    fn = jax.jit(lambda p, t: amaml.meta_value_and_grad(method, LOSS, p, t))
    value, grad = fn(params, tasks)
    singles = [fn(params, jax.tree_util.tree_map(lambda a, i=i: a[i : i + 1], tasks)) for i in range(3)]
    mean_grad = jax.tree_util.tree_map(lambda *g: sum(g) / 3, *[s[1] for s in singles])
    assert relative_error(grad, mean_grad) < 1e-12
    np.testing.assert_allclose(value, np.mean([s[0] for s in singles]), rtol=1e-12)
    assert jax.tree_util.tree_structure(grad) == jax.tree_util.tree_structure(params)


@pytest.mark.parametrize("method", ALL_METHODS, ids=IDS)
def test_float32_is_finite_and_stays_float32(method):
    params, tasks = problem(jnp.float32)
    value, grad = jax.jit(lambda p, t: amaml.meta_value_and_grad(method, LOSS, p, t))(params, tasks)
    leaves = jax.tree_util.tree_leaves(grad)
    assert all(leaf.dtype == jnp.float32 for leaf in leaves)
    assert value.dtype == jnp.float32 and jnp.isfinite(value)
    assert all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in leaves)
    adapted = amaml.adapt(method, LOSS, params, tasks.support_x[0], tasks.support_y[0])
    assert all(leaf.dtype == jnp.float32 for leaf in jax.tree_util.tree_leaves(adapted))


def test_float32_agrees_with_float64():
    """Full float32 arithmetic; on GPUs JAX's default float32 matmul is TF32 (~1e-3)."""
    method = amaml.AdjointMAML(20, 0.02)
    params, tasks = problem(jnp.float64)
    g64 = compiled_value_and_grad(method, LOSS, params, tasks)[1]
    to32 = lambda tree: jax.tree_util.tree_map(lambda a: a.astype(jnp.float32), tree)
    with jax.default_matmul_precision("highest"):
        g32 = compiled_value_and_grad(method, LOSS, to32(params), to32(tasks))[1]
    assert relative_error(g32, g64) < 1e-4


def test_adapt_runs_the_inner_loop_and_lowers_the_support_loss():
    params, tasks = problem()
    x, y = tasks.support_x[0], tasks.support_y[0]
    adapted = amaml.adapt(amaml.MAML(30, 0.05), LOSS, params, x, y)
    manual = params
    for _ in range(30):
        g = jax.grad(LOSS)(manual, x, y)
        manual = jax.tree_util.tree_map(lambda p, gi: p - 0.05 * gi, manual, g)
    assert relative_error(adapted, manual) < 1e-12
    assert LOSS(adapted, x, y) < LOSS(params, x, y)


def test_cross_entropy_value_and_exact_methods_agree_on_classification():
    key = jax.random.key(7)
    k1, k2, k3 = jax.random.split(key, 3)
    params = amaml.models.mlp_init(k1, [2, 8, 3], jnp.float64)
    x = jax.random.normal(k2, (2, 12, 2))
    y = jax.random.randint(k3, (2, 12), 0, 3)
    tasks = amaml.Task(x[:, :6], y[:, :6], x[:, 6:], y[:, 6:])
    loss = amaml.losses.cross_entropy(amaml.models.mlp_apply)
    logits = amaml.models.mlp_apply(params, x[0])
    manual = -np.mean(np.log(np.exp(logits) / np.exp(logits).sum(1, keepdims=True))[np.arange(12), y[0]])
    np.testing.assert_allclose(loss(params, x[0], y[0]), manual, rtol=1e-12)
    _, g_maml = amaml.meta_value_and_grad(amaml.MAML(10, 0.1), loss, params, tasks)
    _, g_da = amaml.meta_value_and_grad(amaml.DiscreteAdjoint(10, 0.1), loss, params, tasks)
    assert relative_error(g_da, g_maml) < 1e-10


def test_meta_train_step_is_sgd_on_the_meta_gradient():
    import optax

    params, tasks = problem()
    method = amaml.AdjointMAML(10, 0.05)
    opt = optax.sgd(0.1)
    new_params, _, loss, _ = amaml.meta_train_step(method, LOSS, opt, params, opt.init(params), tasks)
    value, grad = amaml.meta_value_and_grad(method, LOSS, params, tasks)
    expected = jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grad)
    assert relative_error(new_params, expected) < 1e-12 and loss == value


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "build,exc,words",
    [
        (lambda: amaml.AdjointMAML(0, 0.01), ValueError, "`steps`"),
        (lambda: amaml.AdjointMAML(2.5, 0.01), TypeError, "`steps`"),
        (lambda: amaml.MAML(10, -0.1), ValueError, "`step_size`"),
        (lambda: amaml.MAML(10, float("nan")), ValueError, "`step_size`"),
        (lambda: amaml.AdjointMAML(10, 0.1, prox=-1.0), ValueError, "`prox`"),
        (lambda: amaml.AdjointMAML(10, 0.1, forward="rk4"), TypeError, "`forward`"),
        (lambda: amaml.DiscreteAdjoint(10, 0.1, forward=None), TypeError, "`forward`"),
        (lambda: amaml.AdjointMAML(10, 0.1, unroll=0), ValueError, "`unroll`"),
        (lambda: amaml.MAML(10, 0.1, unroll=2.0), TypeError, "`unroll`"),
        (lambda: amaml.AdjointMAML(10, 0.1, memory_budget=0), ValueError, "`memory_budget`"),
        (lambda: amaml.DiscreteAdjoint(10, 0.1, memory_budget=1.5), TypeError, "`memory_budget`"),
        (lambda: amaml.IMAML(10, 0.1, 2.0), TypeError, "positional"),
        (lambda: amaml.AdjointMAML(10, 0.1, amaml.RK4()), TypeError, "positional"),
        (lambda: amaml.DiscreteAdjoint(10, 0.1, amaml.Euler()), TypeError, "positional"),
        (lambda: amaml.AdjointMAML(10, 0.1, checkpoints=0), ValueError, "`checkpoints`"),
        (lambda: amaml.IMAML(10, 0.1, prox=0.0), ValueError, "`prox`"),
        (lambda: amaml.IMAML(10, 0.1, cg_steps=0), ValueError, "`cg_steps`"),
    ],
)
def test_bad_method_arguments_raise_naming_the_argument(build, exc, words):
    with pytest.raises(exc, match=words):
        build()


def test_bad_tasks_and_params_raise_before_any_work():
    params, tasks = problem()
    method = amaml.MAML(2, 0.1)
    with pytest.raises(ValueError, match="support_x.*support_y"):
        amaml.meta_value_and_grad(method, LOSS, params, tasks._replace(support_y=tasks.support_y[:, :-1]))
    with pytest.raises(ValueError, match="feature shape"):
        amaml.meta_value_and_grad(method, LOSS, params, tasks._replace(query_x=jnp.ones((3, 15, 2))))
    with pytest.raises(ValueError, match="task axis"):
        amaml.meta_value_and_grad(
            method, LOSS, params, tasks._replace(query_x=tasks.query_x[:2], query_y=tasks.query_y[:2])
        )
    with pytest.raises(TypeError, match="dtype"):
        amaml.meta_value_and_grad(method, LOSS, params, tasks._replace(support_x=tasks.support_x.astype(jnp.float32)))
    with pytest.raises(TypeError, match="`params`"):
        amaml.meta_value_and_grad(method, LOSS, {"a": jnp.ones(2), "b": jnp.ones(2, jnp.float32)}, tasks)
    with pytest.raises(TypeError, match="`tasks`"):
        amaml.meta_value_and_grad(method, LOSS, params, tuple(tasks))
    with pytest.raises(TypeError, match="`method`"):
        amaml.meta_value_and_grad("maml", LOSS, params, tasks)
    with pytest.raises(ValueError, match="empty"):
        amaml.adapt(method, LOSS, params, jnp.ones((0, 1)), jnp.ones((0, 1)))


def test_non_array_leaves_in_params_get_amamls_error_with_the_equinox_hint():
    params, tasks = problem()
    method = amaml.MAML(2, 0.1)
    for leaf, kind in ((jnp.tanh, "function"), ("relu", "str"), (3, "int"), (lambda x: x, "function")):
        model = {"layers": params, "config": {"activation": leaf}}  # what an equinox Module flattens to
        for call in (
            lambda model=model: amaml.meta_value_and_grad(method, LOSS, model, tasks),
            lambda model=model: amaml.adapt(method, LOSS, model, tasks.support_x[0], tasks.support_y[0]),
        ):
            with pytest.raises(TypeError) as caught:
                call()
            text = str(caught.value)
            assert "params['config']['activation']" in text, text
            assert "eqx.partition(model, eqx.is_array)" in text and "eqx.combine(params, static)" in text
            assert kind in text or type(leaf).__name__ in text
            assert "Cannot determine dtype" not in text


@pytest.mark.parametrize("y_shape", [(15, 1), (15,)])
def test_a_single_task_without_its_task_axis_says_how_to_add_it(y_shape):
    params = amaml.models.mlp_init(jax.random.key(0), [2, 8, 1], jnp.float64)
    x = jax.random.normal(jax.random.key(1), (15, 2))
    y = jnp.sum(x, axis=1).reshape(y_shape)
    task = amaml.Task(x, y, x[:10], y[:10])
    with pytest.raises(ValueError, match="missing its task axis") as caught:
        amaml.meta_value_and_grad(amaml.MAML(2, 0.1), LOSS, params, task)
    assert "jax.tree_util.tree_map(lambda a: a[None], task)" in str(caught.value)
    if len(y_shape) == 1:
        return  # (mse then refuses (n,) targets for (n, 1) predictions: a different, clear error)
    fixed = jax.tree_util.tree_map(lambda a: a[None], task)  # the advice works
    value, _ = amaml.meta_value_and_grad(amaml.MAML(2, 0.1), LOSS, params, fixed)
    assert np.isfinite(value)
