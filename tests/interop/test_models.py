"""equinox and flax models plug in as (apply, params): meta-gradients equal the plain-pytree computation.

Each model's weights are also copied into a plain list of (w, b) arrays with a hand-written
tanh MLP; under ``jax.jit`` the meta-gradient through the library model must equal the plain
one to 1e-10 in float64, and it must come back as the user's own type.
"""

import jax
import jax.numpy as jnp
import pytest

import amaml
from oracles import batched, relative_error, tanh_mlp_task

eqx = pytest.importorskip("equinox")
flax = pytest.importorskip("flax")
from flax import linen, nnx  # noqa: E402

WIDTH = 8
METHODS = [amaml.DiscreteAdjoint(10, 0.05)]  # the adjoint sweep's pytree handling is shared by every method


def plain_apply(layers, x):
    for w, b in layers[:-1]:
        x = jnp.tanh(x @ w + b[None])
    w, b = layers[-1]
    return x @ w + b[None]


@pytest.fixture(scope="module")
def tasks():
    return batched(tanh_mlp_task(jax.random.key(1), n=20), tanh_mlp_task(jax.random.key(2), n=20))


def meta_grad(method, apply, params, tasks):
    loss = amaml.losses.mse(apply)
    return jax.jit(lambda p, t: amaml.meta_value_and_grad(method, loss, p, t))(params, tasks)


def equinox_model():
    model = eqx.nn.MLP(1, 1, WIDTH, 1, activation=jnp.tanh, key=jax.random.key(0), dtype=jnp.float64)
    params, static = eqx.partition(model, eqx.is_array)

    def layers(tree):
        return [(layer.weight.T, layer.bias) for layer in tree.layers]

    return params, lambda p, x: jax.vmap(eqx.combine(p, static))(x), layers(params), layers


class NnxMLP(nnx.Module):
    def __init__(self, rngs):
        self.hidden = nnx.Linear(1, WIDTH, rngs=rngs, param_dtype=jnp.float64)
        self.out = nnx.Linear(WIDTH, 1, rngs=rngs, param_dtype=jnp.float64)

    def __call__(self, x):
        return self.out(jnp.tanh(self.hidden(x)))


def nnx_model():
    graphdef, state = nnx.split(NnxMLP(nnx.Rngs(0)))

    def layers(s):
        return [(s[name]["kernel"][...], s[name]["bias"][...]) for name in ("hidden", "out")]

    return state, lambda s, x: nnx.merge(graphdef, s)(x), layers(state), layers


class LinenMLP(linen.Module):
    @linen.compact
    def __call__(self, x):
        return linen.Dense(1, param_dtype=jnp.float64)(jnp.tanh(linen.Dense(WIDTH, param_dtype=jnp.float64)(x)))


def linen_model():
    module = LinenMLP()
    params = module.init(jax.random.key(0), jnp.ones((1, 1)))

    def layers(p):
        # Dense_0 is the output layer: linen numbers modules in the order they are built
        return [(p["params"][name]["kernel"], p["params"][name]["bias"]) for name in ("Dense_1", "Dense_0")]

    return params, module.apply, layers(params), layers


@pytest.mark.parametrize("build", [equinox_model, nnx_model, linen_model], ids=["equinox", "flax-nnx", "flax-linen"])
@pytest.mark.parametrize("method", METHODS, ids=lambda m: type(m).__name__)
def test_meta_gradient_of_a_library_model_equals_the_plain_pytree_one(build, method, tasks):
    params, apply, plain, as_layers = build()
    value, grad = meta_grad(method, apply, params, tasks)
    plain_value, plain_grad = meta_grad(method, plain_apply, plain, tasks)
    assert type(grad) is type(params)  # the user's own type back
    assert jax.tree_util.tree_structure(grad) == jax.tree_util.tree_structure(params)
    assert abs(value - plain_value) <= 1e-12 * abs(plain_value)
    assert relative_error(as_layers(grad), plain_grad) < 1e-10
