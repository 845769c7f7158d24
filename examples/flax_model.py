"""Meta-gradients of flax models, nnx and linen, through a 50-step inner loop with A-MAML.

flax nnx: ``nnx.split`` gives a graph definition and a ``State`` pytree of the parameters;
``apply(state, x)`` merges them back. flax linen: the parameters are already a pytree and
``module.apply`` is the apply function. Either way the gradient is returned as the same
flax pytree (an ``nnx.State``, or linen's parameter dict).

    python examples/flax_model.py
"""

import argparse

import jax
import jax.numpy as jnp
from flax import linen, nnx

import amaml

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--steps", type=int, default=50, help="inner steps K")
args = parser.parse_args()
tasks = amaml.tasks.Sinusoid().sample_tasks(jax.random.key(0), batch=4, n_support=10, n_query=10)
method = amaml.AdjointMAML(steps=args.steps, step_size=0.01)


# --8<-- [start:nnx]
class NnxMLP(nnx.Module):
    def __init__(self, rngs: nnx.Rngs):
        self.hidden = nnx.Linear(1, 40, rngs=rngs)
        self.out = nnx.Linear(40, 1, rngs=rngs)

    def __call__(self, x):
        return self.out(jnp.tanh(self.hidden(x)))


graphdef, state = nnx.split(NnxMLP(nnx.Rngs(0)))  # state: an nnx.State pytree of the parameters


def nnx_apply(state, x):
    return nnx.merge(graphdef, state)(x)


meta_loss, grad = jax.jit(lambda s, t: amaml.meta_value_and_grad(method, amaml.losses.mse(nnx_apply), s, t))(
    state, tasks
)
# --8<-- [end:nnx]
print(f"nnx: meta-loss {float(meta_loss):.4f}, gradient a {type(grad).__name__}")


# --8<-- [start:linen]
class LinenMLP(linen.Module):
    @linen.compact
    def __call__(self, x):
        return linen.Dense(1)(jnp.tanh(linen.Dense(40)(x)))


module = LinenMLP()
params = module.init(jax.random.key(0), jnp.ones((1, 1)))  # {"params": {"Dense_0": ..., "Dense_1": ...}}
meta_loss, grad = jax.jit(lambda p, t: amaml.meta_value_and_grad(method, amaml.losses.mse(module.apply), p, t))(
    params, tasks
)
# --8<-- [end:linen]
print(f"linen: meta-loss {float(meta_loss):.4f}, gradient keys {sorted(grad['params'])}")
