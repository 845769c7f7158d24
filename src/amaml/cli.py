"""The ``amaml`` command: the only module that prints or writes files."""

from __future__ import annotations

import argparse
import logging
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm import tqdm

from . import _registry
from ._api import adapt, meta_value_and_grad
from ._train import meta_train_step
from .losses import mse
from .models import mlp_apply, mlp_init
from .tasks import Sinusoid

log = logging.getLogger("amaml")


def build_method(name: str, steps: int, step_size: float, forward: str, backward: str):
    cls = _registry.lookup("method", name, _registry.METHODS)
    if cls is _registry.METHODS["amaml"]:
        return cls(
            steps,
            step_size,
            forward=_registry.lookup("solver", forward, _registry.SOLVERS)(),
            backward=_registry.lookup("solver", backward, _registry.SOLVERS)(),
        )
    return cls(steps, step_size)


def demo(args: argparse.Namespace) -> int:
    """Meta-train on sinusoid regression and show the meta-loss falling."""
    method = build_method(args.method, args.steps, args.step_size, args.forward, args.backward)
    family = Sinusoid()
    loss = mse(mlp_apply)
    key = jax.random.key(args.seed)
    key, init_key, eval_key = jax.random.split(key, 3)
    params = mlp_init(init_key, [1, 40, 40, 1])
    optimizer = optax.adam(args.meta_lr)
    opt_state = optimizer.init(params)
    step = jax.jit(lambda p, s, t: meta_train_step(method, loss, optimizer, p, s, t))
    sample = jax.jit(lambda k: family.sample_tasks(k, args.meta_batch, args.shots, args.shots))

    held_out = family.sample_tasks(eval_key, 100, args.shots, args.shots)
    evaluate = jax.jit(lambda p: meta_value_and_grad(method, loss, p, held_out)[0])
    before = float(evaluate(params))

    print(f"amaml demo: {method!r}")
    print(f"sinusoid regression, {args.shots}-shot, meta-batch {args.meta_batch}, Adam({args.meta_lr})")
    print(f"held-out meta-loss before meta-training: {before:.4f}")
    start = time.perf_counter()
    window: list[float] = []
    bar = tqdm(range(1, args.meta_steps + 1), desc="meta-training", unit="update", disable=args.quiet)
    for i in bar:
        params, opt_state, meta_loss = step(params, opt_state, sample(jax.random.fold_in(key, i)))
        window.append(float(meta_loss))
        bar.set_postfix(meta_loss=f"{window[-1]:.4f}")
        if i % args.report_every == 0 or i == args.meta_steps:
            tqdm.write(f"  update {i:5d}  mean meta-loss over last {len(window)}: {np.mean(window):.4f}")
            window = []
    after = float(evaluate(params))
    seconds = time.perf_counter() - start
    print(f"held-out meta-loss after {args.meta_steps} meta-updates: {after:.4f} (was {before:.4f}); {seconds:.1f} s")
    x, y = held_out.support_x[0], held_out.support_y[0]
    adapted = adapt(method, loss, params, x, y)
    print(f"one held-out task, support loss before/after adaptation: "
          f"{float(loss(params, x, y)):.4f} -> {float(loss(adapted, x, y)):.4f}")
    if not after < before:
        print("meta-loss did not fall", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="amaml", description="Meta-learning with adjoint methods.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="meta-train on sinusoid regression and print the meta-loss")
    p.add_argument("--method", default="amaml", help=f"one of: {', '.join(_registry.METHODS)}")
    p.add_argument("--forward", default="rk4", help=f"A-MAML forward solver: {', '.join(_registry.SOLVERS)}")
    p.add_argument("--backward", default="rk4", help=f"A-MAML backward solver: {', '.join(_registry.SOLVERS)}")
    p.add_argument("--steps", type=int, default=50, help="inner steps K")
    p.add_argument("--step-size", type=float, default=0.01, help="inner step h")
    p.add_argument("--meta-steps", type=int, default=1000, help="meta-updates")
    p.add_argument("--meta-batch", type=int, default=5, help="tasks per meta-update")
    p.add_argument("--meta-lr", type=float, default=1e-3, help="Adam learning rate")
    p.add_argument("--shots", type=int, default=10, help="support and query examples per task")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--report-every", type=int, default=250)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.DEBUG if args.verbose else logging.INFO)
    try:
        return args.func(args)
    except (ValueError, TypeError) as error:
        print(f"amaml: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
