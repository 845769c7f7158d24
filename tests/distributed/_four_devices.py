"""Run by test_mesh.py in a fresh process with 4 simulated CPU devices; prints one JSON line."""

import contextlib
import io
import json
import sys

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from jax.flatten_util import ravel_pytree  # noqa: E402

import amaml  # noqa: E402
from amaml import distributed  # noqa: E402
from amaml.cli import main  # noqa: E402
from amaml.tasks import (
    MetaDataset,  # noqa: E402
    Standardisation,  # noqa: E402
)
from amaml.train import _update, make_update  # noqa: E402

B, N, D = 8, 6, 2
rng = np.random.default_rng(0)
out = {"device_count": jax.device_count()}
loss = amaml.losses.mse(amaml.models.mlp_apply)
params = amaml.models.mlp_init(jax.random.key(0), [D, 8, 8, 1], jnp.float64)
x = rng.uniform(-1, 1, (B, 2 * N, D))
y = np.sin(3 * x).sum(-1, keepdims=True)
tasks = amaml.Task(*(jnp.asarray(a) for a in (x[:, :N], y[:, :N], x[:, N:], y[:, N:])))
mesh = distributed.task_mesh()

# 1. the task arrays are split over the devices, params are replicated
sharded = distributed.shard_tasks(tasks, mesh)
shards = sharded.support_x.addressable_shards
out["shards"] = [
    {
        "device": s.device.id,
        "rows": [s.index[0].start, s.index[0].stop],
        "equal": bool(np.array_equal(np.asarray(s.data), x[s.index[0], :N])),
    }
    for s in shards
]
replicated = distributed.replicate(params, mesh)
out["params_replicated"] = all(
    leaf.sharding.is_fully_replicated and len(leaf.addressable_shards) == 4
    for leaf in jax.tree_util.tree_leaves(replicated)
)

# 2. sharded meta-gradient = single-device meta-gradient
methods = {"A-MAML": amaml.AdjointMAML(8, 0.05)}  # MAML: through make_update below
out["grad_diff"], out["loss_diff"], out["grad_norm"] = {}, {}, {}
for name, method in methods.items():
    f = jax.jit(lambda p, t, method=method: amaml.meta_value_and_grad(method, loss, p, t))
    value_1, grad_1 = f(params, tasks)
    value_4, grad_4 = f(replicated, sharded)
    g1, g4 = ravel_pytree(grad_1)[0], ravel_pytree(grad_4)[0]
    out["grad_diff"][name] = float(jnp.max(jnp.abs(g1 - g4)))
    out["loss_diff"][name] = float(jnp.abs(value_1 - value_4))
    out["grad_norm"][name] = float(jnp.linalg.norm(g1))

# 3. make_update with a mesh, MAML: the same SGD updates (theta differences are lr times meta-gradient
#    differences), and inside the jit the sampled tasks are split over the devices
pool = rng.uniform(-1, 1, (10, 20, D))
targets = np.sin(3 * pool).sum(-1, keepdims=True)
dataset = MetaDataset(
    pool,
    targets,
    pool[:, ::-1],
    targets[:, ::-1],
    pool[:2],
    targets[:2],
    pool[0],
    targets[:2],
    Standardisation(np.zeros(D), np.ones(D), np.zeros(()), np.ones(())),
)
dataset = jax.tree_util.tree_map(jnp.asarray, dataset)
seen = []
real_step = _update.meta_train_step


def spy(method, loss_fn, optimizer, p, s, t, **options):
    jax.debug.inspect_array_sharding(
        t.support_x, callback=lambda sh: seen.append([list(getattr(sh, "spec", [])), sh.num_devices])
    )
    return real_step(method, loss_fn, optimizer, p, s, t, **options)


_update.meta_train_step = spy
LR = 0.1
optimizer = optax.sgd(LR)
thetas = []
for m in (None, mesh):
    update = make_update(amaml.MAML(3, 0.05), loss, optimizer, dataset, jax.random.key(1), B, 4, 4, mesh=m)
    p, s = params, optimizer.init(params)
    if m is not None:
        p, s = distributed.replicate((p, s), m)
    for step in range(3):
        p, s, _, _ = update(p, s, jnp.asarray(step))
        thetas.append(np.asarray(ravel_pytree(p)[0]))
# after one update the theta difference is exactly lr times the meta-gradient difference
out["first_update_diff"] = float(np.max(np.abs(thetas[0] - thetas[3])))
out["update_diff"] = float(np.max(np.abs(thetas[2] - thetas[5])))
out["update_size"] = float(np.max(np.abs(thetas[0] - np.asarray(ravel_pytree(params)[0]))))
out["lr"] = LR
out["inner_sharding"] = seen

# 4. a meta-batch the devices do not divide: one clear error, before any work
errors = []
for call in (
    lambda: make_update(amaml.MAML(5, 0.05), loss, optimizer, dataset, jax.random.key(1), 6, 4, 4, mesh=mesh),
    lambda: distributed.shard_tasks(jax.tree_util.tree_map(lambda a: a[:6], tasks), mesh),
):
    try:
        call()
        errors.append(None)
    except ValueError as error:
        errors.append(str(error))
stderr = io.StringIO()
with contextlib.redirect_stderr(stderr):
    code = main(["train", "--run-dir", sys.argv[1], "--devices", "4", "--set", "meta.batch=6", "--quiet"])
errors.append(f"exit {code}: {stderr.getvalue().strip()}")
out["errors"] = errors
print(json.dumps(out))
