"""The registries of a run configuration: every name a configuration may use, once."""

from __future__ import annotations

from .._methods import FOMAML, IMAML, MAML, AbstractMetaMethod, AdjointMAML, DiscreteAdjoint, Reptile
from .._registry import Registry
from .._solvers import RK4, AbstractSolver, Euler, Heun
from ..data._features import AbstractItemFeatures, OneHotItems, SVDItems
from ..data._fetch import DATASETS, DataSource
from ..models import MLP, AbstractModel, Conv4
from ..tasks import AbstractTaskFamily, Alpine, CosMixture, Sinusoid
from ._omniglot_tasks import OmniglotTasks
from ._sections import SGD, AbstractOptimizer, Adam
from ._sources import AbstractTaskSource, FunctionTasks, RatingTasks

METHODS: Registry[type[AbstractMetaMethod]] = Registry(
    "method",
    {
        "amaml": AdjointMAML,
        "discrete-adjoint": DiscreteAdjoint,
        "maml": MAML,
        "fomaml": FOMAML,
        "imaml": IMAML,
        "reptile": Reptile,
    },
)
"""Method name -> class, for ``method.name`` (amaml, discrete-adjoint, maml, fomaml, imaml, reptile)."""
SOLVERS: Registry[type[AbstractSolver]] = Registry("solver", {"euler": Euler, "heun": Heun, "rk4": RK4})
"""Solver name -> class, for ``method.forward`` and ``method.backward`` (euler, heun, rk4)."""
TASK_SOURCES: Registry[type[AbstractTaskSource]] = Registry(
    "task source",
    {
        "functions": FunctionTasks,
        "ratings": RatingTasks,
        "omniglot": OmniglotTasks,
    },
)
"""Task-source name -> class, for ``tasks.source`` (functions, ratings, omniglot)."""
FAMILIES: Registry[type[AbstractTaskFamily]] = Registry(
    "task family",
    {
        "cosmixture": CosMixture,
        "alpine": Alpine,
        "sinusoid": Sinusoid,
    },
)
"""Task-family name -> class, for ``tasks.family`` (cosmixture, alpine, sinusoid)."""
FEATURES: Registry[type[AbstractItemFeatures]] = Registry("item features", {"onehot": OneHotItems, "svd": SVDItems})
"""Item-feature name -> class, for ``tasks.features`` of rating tasks (onehot, svd)."""
MODELS: Registry[type[AbstractModel]] = Registry("model", {"mlp": MLP, "conv4": Conv4})
"""Model name -> class, for ``model.name`` (mlp, conv4)."""
OPTIMIZERS: Registry[type[AbstractOptimizer]] = Registry("meta-optimizer", {"sgd": SGD, "adam": Adam})
"""Meta-optimiser name -> class, for ``optimizer.name`` (sgd, adam)."""

KINDS: dict[type, Registry] = {
    AbstractSolver: SOLVERS,
    AbstractTaskFamily: FAMILIES,
    AbstractItemFeatures: FEATURES,
    DataSource: DATASETS,
    AbstractMetaMethod: METHODS,
    AbstractTaskSource: TASK_SOURCES,
    AbstractModel: MODELS,
    AbstractOptimizer: OPTIMIZERS,
}
"""Field type -> the registry whose names choose its objects."""
