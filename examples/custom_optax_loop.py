"""A hand-written meta-training loop: amaml computes the meta-gradient, optax and you do the rest.

``amaml.meta_value_and_grad`` is a pure function of (method, loss, params, tasks), so any
optax optimiser, schedule or gradient transformation goes around it, and the PRNG key and the
optimiser state are passed explicitly, as in any JAX program. (``amaml.meta_train_step`` is this
loop's body with a divergence guard; ``amaml.train.run`` adds configuration, checkpoints and resume.)

    python examples/custom_optax_loop.py --meta-steps 300
"""

import argparse

import jax
import optax

import amaml

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--meta-steps", type=int, default=300)
args = parser.parse_args()

params = amaml.models.mlp_init(jax.random.key(0), [1, 40, 40, 1])
loss_fn = amaml.losses.mse(amaml.models.mlp_apply)
family = amaml.tasks.Sinusoid()
method = amaml.DiscreteAdjoint(steps=10, step_size=0.05)  # exactly MAML's gradient, at flat memory in K

# --8<-- [start:loop]
schedule = optax.cosine_decay_schedule(1e-3, decay_steps=args.meta_steps)
optimizer = optax.chain(optax.clip_by_global_norm(10.0), optax.adam(schedule))
opt_state = optimizer.init(params)


@jax.jit
def update(params, opt_state, key):
    tasks = family.sample_tasks(key, batch=8, n_support=10, n_query=10)
    meta_loss, grad = amaml.meta_value_and_grad(method, loss_fn, params, tasks)
    updates, opt_state = optimizer.update(grad, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, meta_loss


key = jax.random.key(1)
for step in range(args.meta_steps):
    key, task_key = jax.random.split(key)
    params, opt_state, meta_loss = update(params, opt_state, task_key)
    if step % 100 == 0 or step == args.meta_steps - 1:
        print(f"meta-update {step}: meta-loss {float(meta_loss):.4f}")
# --8<-- [end:loop]

# adapt the meta-learned initialisation to a new task: the method's own inner loop
task = family.sample_tasks(jax.random.key(2), batch=1, n_support=10, n_query=10)
adapted = amaml.adapt(method, loss_fn, params, task.support_x[0], task.support_y[0])
print(f"query loss after adaptation: {float(loss_fn(adapted, task.query_x[0], task.query_y[0])):.4f}")
