"""A plain-JAX convolutional network as an amaml model: a dict of arrays and an apply function.

No framework at all: the parameters are a dict, ``apply(params, x)`` uses ``jax.lax.conv``,
and the meta-gradient (here MAML's exact one by the discrete adjoint, on random 5-way
episodes of 16x16 images) comes back as the same dict.

    python examples/cnn_model.py
"""

import argparse

import jax
import jax.numpy as jnp

import amaml

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--steps", type=int, default=5, help="inner steps K")
args = parser.parse_args()


# --8<-- [start:cnn]
def init(key, channels=1, filters=16, ways=5):
    k1, k2, k3 = jax.random.split(key, 3)
    return {
        "conv1": jax.random.normal(k1, (3, 3, channels, filters)) * (2 / (9 * channels)) ** 0.5,
        "conv2": jax.random.normal(k2, (3, 3, filters, filters)) * (2 / (9 * filters)) ** 0.5,
        "head": {"w": jax.random.normal(k3, (filters, ways)) / filters**0.5, "b": jnp.zeros(ways)},
    }


def apply(params, x):  # x: (n, H, W, C) -> logits (n, ways)
    for name in ("conv1", "conv2"):
        x = jax.lax.conv_general_dilated(x, params[name], (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
        x = jax.nn.relu(x)
    return x.mean(axis=(1, 2)) @ params["head"]["w"] + params["head"]["b"]


loss_fn = amaml.losses.cross_entropy(apply)  # mean cross-entropy; labels are int32 class indices
# --8<-- [end:cnn]

ways, shots = 5, 1
key_x, key_q = jax.random.split(jax.random.key(0))
labels = jnp.tile(jnp.arange(ways, dtype=jnp.int32), (2, shots))  # 2 episodes, class-major
tasks = amaml.Task(
    support_x=jax.random.normal(key_x, (2, ways * shots, 16, 16, 1)),
    support_y=labels,
    query_x=jax.random.normal(key_q, (2, ways * shots, 16, 16, 1)),
    query_y=labels,
)
params = init(jax.random.key(1))
method = amaml.DiscreteAdjoint(steps=args.steps, step_size=0.4)
meta_loss, grad = jax.jit(lambda p, t: amaml.meta_value_and_grad(method, loss_fn, p, t))(params, tasks)
print(f"meta-loss {float(meta_loss):.4f}; gradient keys {sorted(grad)}, head {grad['head']['w'].shape}")
