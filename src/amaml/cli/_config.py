"""Run configuration: the string-valued boundary between the command line and the library."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import jax.numpy as jnp
import optax

from .. import _registry, _validate
from .._methods import AbstractMetaMethod
from ..data import OneHotItems, SVDItems, make_cf_dataset
from ..tasks import AbstractMetaDataset, Alpine, CosMixture, Sinusoid, make_dataset
from ._data import DATASETS, load_ratings

FAMILIES = {"cosmixture": CosMixture, "alpine": Alpine, "sinusoid": Sinusoid}
FEATURES = {"onehot": OneHotItems, "svd": SVDItems}
OPTIMIZERS = {"sgd": optax.sgd, "adam": optax.adam}
DTYPES = {"float32": jnp.float32, "float64": jnp.float64}
ON_DIVERGENCE = {"raise": False, "skip": True}  # -> meta_train_step(skip_diverged=...)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a meta-training run; saved as ``config.json`` in the run dir.

    Defaults follow the paper's synthetic protocol where it is known (h = 0.01, meta-batch
    5, SGD with meta-lr 0.01, float64, MLP 2 x 32 tanh, 100 + 100 functions).

    With ``dataset`` set (``movielens-100k``, ``movielens-1m``, ``jester-1``) the tasks are
    users of that rating dataset read from ``data_dir`` (default ``data/DATASET``) instead
    of functions of ``family``: ``features`` (``onehot`` or ``svd``) gives the ``dim``-dimensional
    item input (default 100), users with fewer than ``min_ratings`` ratings are dropped,
    ``n_test`` of the rest are held out and all others train (``family`` and ``n_train``
    are then unused).
    """

    family: str = "cosmixture"
    dim: int | None = None  # None: 2 for a task family, 100 for a dataset
    dataset: str | None = None
    data_dir: str | None = None
    features: str = "onehot"
    min_ratings: int = 50
    shots: int = 50
    queries: int = 50
    n_train: int = 100
    n_test: int = 100
    hidden: tuple[int, ...] = (32, 32)
    method: str = "amaml"
    steps: int = 100
    step_size: float = 0.01
    forward: str = "rk4"
    backward: str = "rk4"
    prox: float | None = None  # None: the method's own default (0 for adjoints, 1 for iMAML)
    cg_steps: int = 5
    optimizer: str = "sgd"
    meta_lr: float = 0.01
    meta_batch: int = 5
    meta_steps: int = 5000
    eval_every: int = 500
    checkpoint_every: int = 100
    dtype: str = "float64"
    seed: int = 0
    on_divergence: str = "raise"  # or "skip": drop diverged tasks from the mean and count them

    def __post_init__(self) -> None:
        if self.dataset is not None:
            _registry.lookup("dataset", self.dataset, DATASETS)
            if self.data_dir is None:
                object.__setattr__(self, "data_dir", f"data/{self.dataset}")
            if not isinstance(self.data_dir, str):
                raise TypeError(f"`data_dir` must be a path string, got {self.data_dir!r}.")
            _validate.positive_int("min_ratings", self.min_ratings)
            if self.shots + self.queries > self.min_ratings:
                raise ValueError(f"`shots` + `queries` ({self.shots} + {self.queries}) must not exceed "
                                 f"`min_ratings` ({self.min_ratings}).")
        if self.dim is None:
            object.__setattr__(self, "dim", 2 if self.dataset is None else 100)
        _registry.lookup("task family", self.family, FAMILIES)
        _registry.lookup("item features", self.features, FEATURES)
        _registry.lookup("method", self.method, _registry.METHODS)
        _registry.lookup("solver", self.forward, _registry.SOLVERS)
        _registry.lookup("solver", self.backward, _registry.SOLVERS)
        _registry.lookup("meta-optimizer", self.optimizer, OPTIMIZERS)
        _registry.lookup("dtype", self.dtype, DTYPES)
        _registry.lookup("on_divergence", self.on_divergence, ON_DIVERGENCE)
        for name in ("dim", "shots", "queries", "n_train", "n_test", "steps", "cg_steps",
                     "meta_batch", "meta_steps", "eval_every", "checkpoint_every"):
            _validate.positive_int(name, getattr(self, name))
        for size in self.hidden:
            _validate.positive_int("hidden", size)
        _validate.positive_float("step_size", self.step_size)
        _validate.positive_float("meta_lr", self.meta_lr)
        if self.prox is not None:
            _validate.nonnegative_float("prox", self.prox)
        if self.dataset is None and self.meta_batch > self.n_train:
            raise ValueError(f"`meta_batch` ({self.meta_batch}) must not exceed `n_train` ({self.n_train}).")
        if self.family == "sinusoid" and self.dim != 1:
            raise ValueError("`dim` must be 1 for the sinusoid family.")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        """Build from a mapping; unknown keys are an error that lists the valid ones."""
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - fields)
        if unknown:
            raise ValueError(f"unknown config keys {unknown}; valid keys are: {', '.join(sorted(fields))}.")
        values = dict(values)
        if "hidden" in values:
            values["hidden"] = tuple(values["hidden"])
        return cls(**values)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1)

    # ---------------------------------------------------------------- objects

    @property
    def jnp_dtype(self):
        return DTYPES[self.dtype]

    def build_family(self):
        cls = FAMILIES[self.family]
        return cls(dtype=self.jnp_dtype) if self.family == "sinusoid" else cls(dim=self.dim, dtype=self.jnp_dtype)

    def build_dataset(self, key) -> AbstractMetaDataset:
        """The fixed functions of ``family``, or the user tasks of ``dataset``; all from ``key``."""
        if self.dataset is None:
            return make_dataset(self.build_family(), key, self.n_train, self.n_test)
        ratings = load_ratings(self.dataset, self.data_dir)
        return make_cf_dataset(ratings, FEATURES[self.features](self.dim), key, self.n_test, self.min_ratings,
                               self.queries, self.jnp_dtype)

    def build_method(self) -> AbstractMetaMethod:
        cls = _registry.METHODS[self.method]
        solvers = _registry.SOLVERS
        name = self.method
        if name == "amaml":
            extra = {"forward": solvers[self.forward](), "backward": solvers[self.backward]()}
        elif name == "discrete-adjoint":
            extra = {"solver": solvers[self.forward]()}
        elif name == "imaml":
            extra = {"cg_steps": self.cg_steps}
        else:
            extra = {}
        if self.prox is not None and name in ("amaml", "discrete-adjoint", "imaml"):
            extra["prox"] = self.prox
        return cls(self.steps, self.step_size, **extra)

    @property
    def skip_diverged(self) -> bool:
        return ON_DIVERGENCE[self.on_divergence]

    def build_optimizer(self) -> optax.GradientTransformation:
        return OPTIMIZERS[self.optimizer](self.meta_lr)

    def layer_sizes(self) -> list[int]:
        return [self.dim, *self.hidden, 1]
