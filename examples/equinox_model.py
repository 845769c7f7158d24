"""Meta-learn an equinox MLP's initialisation with the exact discrete adjoint (MAML's gradient, flat memory).

An equinox model is a pytree: ``eqx.partition`` splits its arrays (what is meta-learned) from the rest,
and ``apply(params, x)`` puts them back together. amaml never sees a layer class, and the gradient
comes back as an equinox model of the same structure.

    python examples/equinox_model.py --meta-steps 200
"""

import argparse

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

import amaml

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--meta-steps", type=int, default=200)
args = parser.parse_args()

# --8<-- [start:model]
model = eqx.nn.MLP(in_size=1, out_size=1, width_size=40, depth=2, activation=jnp.tanh, key=jax.random.key(0))
params, static = eqx.partition(model, eqx.is_array)  # arrays: meta-learned; the rest: structure


def apply(params, x):  # x: (n, 1) -> (n, 1); the MLP maps one example, so vmap over the n
    return jax.vmap(eqx.combine(params, static))(x)


loss_fn = amaml.losses.mse(apply)
# --8<-- [end:model]

method = amaml.DiscreteAdjoint(steps=20, step_size=0.05)
optimizer = optax.adam(1e-3)
opt_state = optimizer.init(params)
family = amaml.tasks.Sinusoid()


@jax.jit
def update(params, opt_state, key):
    tasks = family.sample_tasks(key, batch=8, n_support=10, n_query=10)
    return amaml.meta_train_step(method, loss_fn, optimizer, params, opt_state, tasks)


key = jax.random.key(1)
for step in range(args.meta_steps):
    params, opt_state, meta_loss, _ = update(params, opt_state, jax.random.fold_in(key, step))
    if step % 50 == 0 or step == args.meta_steps - 1:
        print(f"meta-update {step}: meta-loss {float(meta_loss):.4f}")

# the gradient is an equinox MLP like the parameters (its non-array fields are None)
tasks = family.sample_tasks(jax.random.key(2), batch=2, n_support=10, n_query=10)
_, grad = amaml.meta_value_and_grad(method, loss_fn, params, tasks)
print(type(grad).__name__, jax.tree_util.tree_structure(grad) == jax.tree_util.tree_structure(params))
