"""Shared by the tests of this folder and the scripts they run in subprocesses."""

import os
from pathlib import Path

import amaml

# a tiny run of `amaml train` (--set KEY=VALUE items): cheap to compile, float64
TINY_RUN = [
    "tasks.family=sinusoid",
    "model.hidden=8",
    "method.name=maml",
    "method.steps=2",
    "tasks.shots=5",
    "tasks.queries=5",
    "tasks.n_train=8",
    "tasks.n_test=2",
    "meta.batch=4",
    "meta.steps=4",
    "run.checkpoint_every=2",
    "run.eval_every=2",
    "run.dtype=float64",
]


def set_args(items: list[str]) -> list[str]:
    return [arg for item in items for arg in ("--set", item)]


def python_env(**extra: str) -> dict[str, str]:
    """The environment for a child Python that imports this checkout's amaml."""
    src = str(Path(amaml.__file__).resolve().parents[1])
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env
