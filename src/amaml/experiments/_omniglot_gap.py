"""Where a trained run's gap to a published accuracy comes from, measured on the run itself.

Measurements of one trained run, with no retraining:

- the test protocol: accuracy on the same meta-test characters with 1, 5 or 15 queries per
  class. Conv4's batch normalisation is transductive (it uses the statistics of the batch it
  is given), so the number of query images changes the prediction itself; MAML tested with as
  many queries as shots (1 per class for 1-shot). And with more inner steps at test time than
  in training: MAML's code adapts Omniglot test episodes with 10 steps (``test_num_updates``);
- generalisation: accuracy on episodes drawn from the meta-train characters, with the same
  protocol. Near 100% there and lower on meta-test, the run has fitted its training classes
  and more updates help less; low on both, it is budget-limited.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax

from ..train import accuracy_summary, episode_accuracy, load_run


def protocol_effects(run_dir: Path, queries: tuple[int, ...] = (1, 5, 15), test_steps: tuple[int, ...] = (10,)) -> dict:
    """Accuracy of the run in ``run_dir`` at each test-query count, at more inner steps, and on meta-train episodes.

    Returns:
        ``{"test": {queries: summary}, "steps": {K: summary}, "own_steps": K, "train": summary,
        "train_queries": q, "episodes": n}``, each summary as :func:`amaml.train.accuracy_summary`;
        ``steps`` adapts the test episodes of the run's own query count with K inner steps of its
        step size; the train episodes have the run's own protocol and are as many as its test episodes.
    """
    trained = load_run(Path(run_dir))
    parts = trained.parts
    tasks_config = parts.config.tasks
    predict = parts.predictor(trained.params)

    def score(tasks, method=parts.method) -> dict:
        return accuracy_summary(episode_accuracy(method, parts.loss_fn, trained.params, tasks, predict, chunk=50))

    shots, own = tasks_config.shots, tasks_config.episode_queries()
    test = {q: score(dataclasses.replace(parts.dataset, test_queries=q).test_tasks(shots)) for q in queries}
    own_tasks = parts.dataset.test_tasks(shots)
    steps = {k: score(own_tasks, dataclasses.replace(parts.method, steps=k)) for k in test_steps}
    key = jax.random.fold_in(parts.dataset.test_key, 2)  # not a key any training batch used
    train = score(parts.dataset.sample(key, tasks_config.n_test, shots, own))
    return {
        "test": test,
        "steps": steps,
        "own_steps": parts.method.steps,
        "train": train,
        "train_queries": own,
        "episodes": tasks_config.n_test,
    }


def protocol_section(setting: str, label: str, effects: dict, published: float | None) -> str:
    """The measurements as a markdown section."""
    lines = [
        f"\n## Where the gap comes from: {label}, {setting}, measured on the trained run\n\n",
        f"The same trained parameters, {effects['episodes']} episodes each; published: "
        f"{'n/a' if published is None else f'{published:.2f}%'} (MAML tested with 1 query per class).\n\n",
        "| episodes | queries per class | inner steps at test | accuracy (%) |\n|---|---|---|---|\n",
    ]
    own_steps, own_queries = effects["own_steps"], effects["train_queries"]
    for q, summary in effects["test"].items():
        lines.append(f"| meta-test | {q} | {own_steps} | {summary['mean']:.2f} +- {summary['ci95']:.2f} |\n")
    for k, summary in effects["steps"].items():
        lines.append(f"| meta-test | {own_queries} | {k} | {summary['mean']:.2f} +- {summary['ci95']:.2f} |\n")
    train = effects["train"]
    lines.append(f"| meta-train | {own_queries} | {own_steps} | {train['mean']:.2f} +- {train['ci95']:.2f} |\n")
    test_own = effects["test"].get(own_queries)
    few, many = effects["test"][min(effects["test"])], effects["test"][max(effects["test"])]
    lines.append(
        f"\nWith {min(effects['test'])} query per class the accuracy is {few['mean'] - many['mean']:+.2f} points "
        f"from {max(effects['test'])} per class: the transductive batch norm makes the protocol part of the number."
    )
    if test_own is not None:
        for k, summary in effects["steps"].items():
            lines.append(
                f" With {k} inner steps at test time (MAML's code uses 10) instead of {own_steps}: "
                f"{summary['mean'] - test_own['mean']:+.2f} points."
            )
    if test_own is not None:
        lines.append(
            f" Meta-train episodes score {train['mean']:.2f}% against {test_own['mean']:.2f}% on meta-test ones at "
            "the same protocol"
        )
        if published is not None:
            lines.append(
                ": even on its training characters the run is below the published meta-test accuracy, so it is "
                "budget-limited (it has not fitted its training classes yet)."
                if train["mean"] < published - 2
                else ": on its training characters it reaches the published level, so the rest of the gap is "
                "generalisation to new characters."
            )
        else:
            lines.append(".")
    return "".join(lines) + "\n"


def stationarity_residual(method, loss_fn, params, tasks) -> float:
    """Mean over ``tasks`` of ``|grad L_support(u_K) + lambda (u_K - theta)| / |grad L_support(theta)|``.

    ``u_K`` is ``method``'s adapted parameters from ``theta = params`` and ``lambda`` its inner
    proximal weight. iMAML's implicit gradient is exact at the minimiser of the proximal inner
    problem, where this is 0; its size says how far the K steps are from that assumption.
    """
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree

    from .._api import adapt

    prox = method.inner_prox

    def one(x, y):
        u = adapt(method, loss_fn, params, x, y)
        gradient = lambda p: ravel_pytree(jax.grad(loss_fn)(p, x, y))[0]
        residual = gradient(u) + prox * (ravel_pytree(u)[0] - ravel_pytree(params)[0])
        return jnp.linalg.norm(residual) / jnp.linalg.norm(gradient(params))

    return float(jnp.mean(jax.jit(jax.vmap(one))(tasks.support_x, tasks.support_y)))


def inner_residual(run_dir: Path, episodes: int = 20) -> float | None:
    """:func:`stationarity_residual` of an iMAML run at its trained parameters, on its first
    ``episodes`` meta-test episodes; ``None`` for other methods."""
    from .._methods import IMAML

    trained = load_run(Path(run_dir))
    parts = trained.parts
    if not isinstance(parts.method, IMAML):
        return None
    tasks = jax.tree.map(lambda a: a[:episodes], parts.dataset.test_tasks(parts.config.tasks.shots))
    return stationarity_residual(parts.method, parts.loss_fn, trained.params, tasks)
