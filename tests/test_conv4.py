"""Conv4, the few-shot image classifier: shapes, parameter count, transductive batch norm, exact meta-gradients."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import amaml
from amaml import _conv4
from oracles import batched, relative_error, unrolled_maml_loss

TINY = amaml.models.Conv4(filters=4, blocks=2)  # 8 x 8 -> 4 -> 2
APPLY = jax.jit(TINY.apply)


def images(seed, n, side=8, channels=1, dtype=jnp.float64):
    """Random images from numpy (jax.random compiles a program per shape: slow on a small CPU)."""
    return jnp.asarray(np.random.default_rng(seed).normal(size=(n, side, side, channels)), dtype)


@pytest.fixture(scope="module")
def tiny_params():
    """TINY's parameters for 1 input channel and 2 classes, float64."""
    return TINY.init(jax.random.key(0), 1, 2, jnp.float64)


def test_default_model_on_omniglot_shapes_and_its_parameter_count():
    model = amaml.models.Conv4()
    params = model.init(jax.random.key(0), 1, 5, jnp.float64)
    logits = jax.jit(model.apply)(params, images(1, 6, side=28))
    assert logits.shape == (6, 5) and logits.dtype == jnp.float64
    assert len(params["blocks"]) == 4
    shapes = [(3, 3, 1, 64)] + [(3, 3, 64, 64)] * 3
    for block, shape in zip(params["blocks"], shapes):
        assert {k: v.shape for k, v in block.items()} == {"w": shape, "b": (64,), "scale": (64,), "offset": (64,)}
        assert np.all(block["scale"] == 1) and np.all(block["offset"] == 0) and np.all(block["b"] == 0)
    assert params["head"]["w"].shape == (64, 5) and params["head"]["b"].shape == (5,)
    count = sum(math.prod(leaf.shape) for leaf in jax.tree_util.tree_leaves(params))
    formula = (3 * 3 * 1 * 64 + 64 + 2 * 64) + 3 * (3 * 3 * 64 * 64 + 64 + 2 * 64) + 64 * 5 + 5
    assert count == formula == 112_261
    assert all(leaf.dtype == jnp.float64 for leaf in jax.tree_util.tree_leaves(params))
    # He normal: a 64-channel block's weights have variance 2 / fan_in = 2 / (9 * 64)
    assert abs(float(jnp.var(params["blocks"][1]["w"])) - 2 / (9 * 64)) < 0.1 * 2 / (9 * 64)


@pytest.mark.parametrize("side", [28, 14, 7, 4, 2, 1])
def test_the_patch_convolution_is_xla_s_strided_same_convolution(side):
    """Odd sides have SAME padding at the end only (7 -> 4); the patches must line up with it."""
    x = images(side, 3, side=side, channels=3)
    w = jnp.asarray(np.random.default_rng(1).normal(size=(3, 3, 3, 5)))
    expected = jax.lax.conv_general_dilated(x, w, (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    np.testing.assert_allclose(_conv4.convolution(x, w), expected, rtol=1e-12, atol=1e-12)


def test_batch_norm_uses_the_statistics_of_the_batch_it_is_given(tiny_params):
    x = images(0, 5)
    params = tiny_params
    first = params["blocks"][0]
    z = jax.lax.conv_general_dilated(x, first["w"], (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    normalised = _conv4.batch_norm(z, first["scale"], first["offset"])
    np.testing.assert_allclose(jnp.mean(normalised, axis=(0, 1, 2)), 0, atol=1e-12)
    var = jnp.var(z, axis=(0, 1, 2))
    np.testing.assert_allclose(jnp.var(normalised, axis=(0, 1, 2)), var / (var + 1e-5), rtol=1e-12)  # ~1
    # the model's first block is exactly that: ReLU of the conv normalised with this batch's statistics
    z = np.asarray(z)
    by_hand = np.maximum((z - z.mean(axis=(0, 1, 2))) / np.sqrt(z.var(axis=(0, 1, 2)) + 1e-5), 0)
    np.testing.assert_allclose(_conv4.block(first, x), by_hand, rtol=1e-12, atol=1e-12)
    one_block = amaml.models.Conv4(filters=4, blocks=1)
    features = one_block.features(params["blocks"][:1], x)
    np.testing.assert_allclose(features, by_hand.mean(axis=(1, 2)), rtol=1e-12, atol=1e-12)


def test_predictions_are_transductive_they_depend_on_the_rest_of_the_batch(tiny_params):
    x = images(1, 4)
    others_changed = x.at[1:].set(images(2, 3))
    others_scaled = x.at[1:].multiply(3.0)
    for changed in (others_changed, others_scaled):
        assert not np.allclose(APPLY(tiny_params, x)[0], APPLY(tiny_params, changed)[0], rtol=1e-3, atol=1e-6)
    # ... but not on the order of the batch
    permuted = x[jnp.array([0, 3, 1, 2])]
    np.testing.assert_allclose(APPLY(tiny_params, permuted)[0], APPLY(tiny_params, x)[0], rtol=1e-12)


def test_split_join_features_head_apply_are_consistent_bitwise(tiny_params):
    model, params = TINY, tiny_params
    x = images(1, 5)
    body, head = model.split(params)
    assert body is params["blocks"] and head is params["head"]
    assert jax.tree_util.tree_structure(model.join(body, head)) == jax.tree_util.tree_structure(params)
    features = model.features(body, x)
    assert features.shape == (5, 4)
    np.testing.assert_array_equal(model.apply(params, x), model.head_apply(head, features))
    np.testing.assert_array_equal(model.apply(model.join(body, head), x), model.apply(params, x))


def test_bad_inputs_are_refused_with_a_clear_message(tiny_params):
    params = tiny_params
    with pytest.raises(ValueError, match=r"\(n, H, W, C\)"):
        TINY.apply(params, jnp.zeros((3, 8, 8), jnp.float64))
    with pytest.raises(ValueError, match="channel"):
        TINY.apply(params, jnp.zeros((3, 8, 8, 3), jnp.float64))
    with pytest.raises(TypeError, match="float32"):
        TINY.apply(params, jnp.zeros((3, 8, 8, 1), jnp.float32))
    with pytest.raises(ValueError, match="filters"):
        amaml.models.Conv4(filters=0)
    with pytest.raises(TypeError, match="blocks"):
        amaml.models.Conv4(blocks=2.0)


def episode(seed, ways=2, shots=1, queries=2, dtype=jnp.float64):
    support_y = jnp.asarray(np.repeat(np.arange(ways), shots), jnp.int32)
    query_y = jnp.asarray(np.repeat(np.arange(ways), queries), jnp.int32)
    return amaml.Task(
        images(seed, ways * shots, dtype=dtype), support_y, images(seed + 1, ways * queries, dtype=dtype), query_y
    )


def test_discrete_adjoint_is_maml_and_both_are_autodiff_of_a_python_loop_on_conv4(tiny_params):
    params = tiny_params
    task = episode(1)
    tasks = batched(task)
    loss = amaml.losses.cross_entropy(TINY.apply)
    steps, h = 3, 0.1

    def meta(method):
        return jax.jit(lambda p, t: amaml.meta_value_and_grad(method, loss, p, t))(params, tasks)

    value_da, grad_da = meta(amaml.DiscreteAdjoint(steps, h, forward=amaml.Euler()))
    value_maml, grad_maml = meta(amaml.MAML(steps, h))
    value_ref, grad_ref = jax.jit(jax.value_and_grad(lambda p: unrolled_maml_loss(loss, p, task, steps, h)))(params)
    assert relative_error(grad_da, grad_maml) < 1e-10
    assert relative_error(grad_da, grad_ref) < 1e-10
    assert relative_error(grad_maml, grad_ref) < 1e-10
    assert abs(value_da - value_ref) <= 1e-12 * abs(value_ref)
    assert abs(value_maml - value_ref) <= 1e-12 * abs(value_ref)
    assert float(jnp.linalg.norm(grad_ref["blocks"][0]["w"])) > 1e-3  # the convolutions get a real gradient


def test_float32_parameters_and_images_give_finite_float32_results(tiny_params):
    layout = jax.eval_shape(lambda: TINY.init(jax.random.key(0), 1, 2, jnp.float32))  # init's dtypes, not compiled
    assert all(leaf.dtype == jnp.float32 for leaf in jax.tree_util.tree_leaves(layout))
    params = jax.tree_util.tree_map(lambda a: a.astype(jnp.float32), tiny_params)
    assert jax.tree_util.tree_structure(params) == jax.tree_util.tree_structure(layout)
    tasks = batched(episode(1, dtype=jnp.float32))
    loss = amaml.losses.cross_entropy(TINY.apply)
    accuracy = amaml.losses.accuracy(TINY.apply)

    @jax.jit
    def meta_and_accuracy(p, t):
        value, grad = amaml.meta_value_and_grad(amaml.DiscreteAdjoint(2, 0.1), loss, p, t)
        return value, grad, accuracy(p, t.query_x[0], t.query_y[0])

    value, grad, acc = meta_and_accuracy(params, tasks)
    assert value.dtype == jnp.float32 and bool(jnp.isfinite(value))
    for leaf in jax.tree_util.tree_leaves(grad):
        assert leaf.dtype == jnp.float32 and bool(jnp.all(jnp.isfinite(leaf)))
    assert acc.dtype == jnp.float32 and 0 <= float(acc) <= 1


def test_accuracy_of_perfect_and_of_constant_wrong_predictions():
    accuracy = amaml.losses.accuracy(lambda params, x: x)  # the inputs are the logits
    y = jnp.array([0, 2, 1, 2], jnp.int32)
    perfect = jax.nn.one_hot(y, 3, dtype=jnp.float32)
    assert float(accuracy(None, perfect, y)) == 1.0 and accuracy(None, perfect, y).dtype == jnp.float32
    wrong = jnp.tile(jnp.array([[0.0, 0.0, 0.0, 5.0]]), (4, 1))  # always class 3, never the label
    assert float(accuracy(None, wrong, y)) == 0.0 and accuracy(None, wrong, y).dtype == jnp.float64
    half = jax.nn.one_hot(jnp.array([0, 2, 0, 0]), 3, dtype=jnp.float64)
    assert float(accuracy(None, half, y)) == 0.5
    with pytest.raises(TypeError, match="integers"):
        accuracy(None, perfect, y.astype(jnp.float32))
    with pytest.raises(ValueError, match=r"\(n, classes\)"):
        accuracy(None, perfect, y[:3])
