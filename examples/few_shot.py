"""Few-shot classification: MAML's 5-way 1-shot protocol with a Conv4, meta-trained by the discrete adjoint.

With ``--data-dir`` it reads Omniglot (the official zips or the npz form) and uses MAML's
character split; without it, it draws synthetic "characters" (random strokes) so the script
runs anywhere. The gradient is MAML's exactly (``DiscreteAdjoint`` with Euler steps), at memory
flat in the number of inner steps.

    python examples/few_shot.py --data-dir ../shared/data/omniglot --meta-steps 2000
"""

import argparse

import jax
import jax.numpy as jnp
import numpy as np
import optax

import amaml

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data-dir", help="Omniglot's directory (default: synthetic characters)")
parser.add_argument("--meta-steps", type=int, default=300)
parser.add_argument("--filters", type=int, default=32)
parser.add_argument("--test-episodes", type=int, default=100)
args = parser.parse_args()
ways, shots, queries, size = 5, 1, 5, 28

if args.data_dir:
    split = amaml.data.omniglot_split(amaml.data.load_omniglot(args.data_dir, size=size))
    train, test = split.train, split.test
else:  # 60 synthetic characters of 20 drawings: a stroke per character, jittered per drawing
    rng = np.random.default_rng(0)
    grid = np.zeros((60, 20, size, size), np.uint8)
    for c in range(60):
        rows, cols = rng.integers(4, size - 4, 2)
        for d in range(20):
            r, k = rows + rng.integers(-2, 3), cols + rng.integers(-2, 3)
            grid[c, d, max(r - 6, 0) : r + 6, max(k - 1, 0) : k + 2] = 255
            grid[c, d, max(r - 1, 0) : r + 2, max(k - 6, 0) : k + 6] = 255 * (c % 2)
    train, test = grid[:40], grid[40:]

# --8<-- [start:few-shot]
conv4 = amaml.models.Conv4(filters=args.filters)
params = conv4.init(jax.random.key(0), 1, ways, jnp.float32)  # 1 channel in, `ways` logits out
loss_fn = amaml.losses.cross_entropy(conv4.apply)
method = amaml.DiscreteAdjoint(steps=5, step_size=0.4)  # MAML's Omniglot inner loop: 5 steps of 0.4
optimizer = optax.adam(1e-3)
opt_state = optimizer.init(params)


@jax.jit
def update(params, opt_state, key):
    tasks = amaml.data.sample_episodes(jnp.asarray(train), key, batch=16, ways=ways, shots=shots, queries=queries)
    return amaml.meta_train_step(method, loss_fn, optimizer, params, opt_state, tasks)


for step in range(args.meta_steps):
    params, opt_state, meta_loss, _ = update(params, opt_state, jax.random.key(step))
# --8<-- [end:few-shot]

episodes = amaml.data.sample_episodes(
    jnp.asarray(test), jax.random.key(-1), batch=args.test_episodes, ways=ways, shots=shots, queries=queries
)
accuracy = amaml.train.episode_accuracy(method, loss_fn, params, episodes, conv4.apply)
print(
    f"after {args.meta_steps} meta-updates: meta-loss {float(meta_loss):.3f}, "
    f"test accuracy {100 * accuracy.mean():.1f}% +- {196 * accuracy.std() / len(accuracy) ** 0.5:.1f}"
)
