"""Head-only adaptation with a learned horizon (ANIL with COMLN's learned T), through 100 inner steps.

The body (the MLP's hidden layers) is shared: held fixed inside the inner loop, meta-learned.
The head (the last layer) adapts on the body's features for a horizon T that is meta-learned
too. ``FeatureLoss`` tells every method that the body acts only through the features, so it
runs once per task per meta-update however many inner steps there are, and the same adjoint
sweep returns the gradient of the head's initialisation, the body and T.

    python examples/head_only_horizon.py --meta-steps 300
"""

import argparse

import jax
import jax.numpy as jnp
import optax

import amaml

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--meta-steps", type=int, default=300)
parser.add_argument("--steps", type=int, default=100, help="inner steps K")
args = parser.parse_args()

# --8<-- [start:meta]
layers = amaml.models.mlp_init(jax.random.key(0), [1, 40, 40, 1])
meta = amaml.MetaParams(init=layers[-1], shared=layers[:-1], horizon=jnp.asarray(1.0))
loss_fn = amaml.FeatureLoss(
    features=amaml.models.mlp_features,  # body(x): the last hidden layer's activations
    head=lambda head, f, y: jnp.mean((f @ head["w"] + head["b"] - y) ** 2),
)
method = amaml.DiscreteAdjoint(args.steps, 0.01)  # the step is T / K once a horizon is learned
optimizer = optax.adam(1e-3)
opt_state = optimizer.init(meta)
family = amaml.tasks.Sinusoid()


@jax.jit
def update(meta, opt_state, key):
    tasks = family.sample_tasks(key, batch=8, n_support=10, n_query=10)
    return amaml.meta_train_step(method, loss_fn, optimizer, meta, opt_state, tasks)  # keeps T > 0


for step in range(args.meta_steps):
    meta, opt_state, meta_loss, _ = update(meta, opt_state, jax.random.key(step))
    if step % 100 == 0 or step == args.meta_steps - 1:
        print(f"meta-update {step}: meta-loss {float(meta_loss):.4f}, horizon T = {float(meta.horizon):.3f}")
# --8<-- [end:meta]
print(amaml.checkpoint_plan(method, meta.init, tasks=8).description)
