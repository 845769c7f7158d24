"""amaml: meta-learning with adjoint methods (A-MAML, Li et al., AISTATS 2023) in JAX.

The core (this namespace) is pure functions of (method, loss, params, tasks)::

    task = amaml.Task(support_x, support_y, query_x, query_y)
    loss_fn = amaml.losses.mse(apply_fn)
    method = amaml.AdjointMAML(steps=200, step_size=0.01, forward=amaml.RK4(), backward=amaml.RK4())
    meta_loss, grad = amaml.meta_value_and_grad(method, loss_fn, params, tasks)
    adapted = amaml.adapt(method, loss_fn, params, support_x, support_y)

Meta-parameters inside the inner loop (a shared body, per-parameter rates, the horizon) go in
an :class:`MetaParams` in place of ``params``; their gradients come from the same sweep
(with a :class:`FeatureLoss`, the body runs once per task).

Around it: :mod:`amaml.train` (a meta-training run usable from Python: configuration,
resume, checkpoints, evaluation), :mod:`amaml.experiments` (the paper's reproductions, reports
and benchmarks), :mod:`amaml.tasks`, :mod:`amaml.data`, :mod:`amaml.models`,
:mod:`amaml.losses`, :mod:`amaml.distributed`; ``amaml`` on the command line is :mod:`amaml.cli`.
"""

from importlib import metadata as _metadata

from . import data as data
from . import distributed as distributed
from . import experiments as experiments
from . import losses as losses
from . import models as models
from . import tasks as tasks
from . import train as train
from ._api import adapt as adapt
from ._api import checkpoint_plan as checkpoint_plan
from ._api import meta_value_and_grad as meta_value_and_grad
from ._check import MetaGradCheck as MetaGradCheck
from ._check import check_meta_grad as check_meta_grad
from ._checkpoints import CheckpointPlan as CheckpointPlan
from ._checkpoints import default_memory_budget as default_memory_budget
from ._divergence import DivergenceError as DivergenceError
from ._divergence import DivergenceKnobs as DivergenceKnobs
from ._divergence import raise_if_diverged as raise_if_diverged
from ._divergence import task_diverged as task_diverged
from ._meta import FeatureLoss as FeatureLoss
from ._meta import MetaParams as MetaParams
from ._methods import FOMAML as FOMAML
from ._methods import IMAML as IMAML
from ._methods import MAML as MAML
from ._methods import AbstractMetaMethod as AbstractMetaMethod
from ._methods import AdjointMAML as AdjointMAML
from ._methods import DiscreteAdjoint as DiscreteAdjoint
from ._methods import Reptile as Reptile
from ._solvers import RK4 as RK4
from ._solvers import AbstractSolver as AbstractSolver
from ._solvers import Euler as Euler
from ._solvers import Heun as Heun
from ._task import Task as Task
from .train._step import MetaStep as MetaStep
from .train._step import meta_train_step as meta_train_step

try:
    __version__ = _metadata.version("amaml")
except _metadata.PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

__all__ = [  # the public API: every name here is in the API reference (tests/test_docs.py checks)
    "AbstractMetaMethod",
    "AbstractSolver",
    "AdjointMAML",
    "CheckpointPlan",
    "DiscreteAdjoint",
    "DivergenceError",
    "DivergenceKnobs",
    "Euler",
    "FOMAML",
    "FeatureLoss",
    "Heun",
    "IMAML",
    "MAML",
    "MetaGradCheck",
    "MetaParams",
    "MetaStep",
    "RK4",
    "Reptile",
    "Task",
    "adapt",
    "check_meta_grad",
    "checkpoint_plan",
    "data",
    "default_memory_budget",
    "distributed",
    "experiments",
    "losses",
    "meta_train_step",
    "meta_value_and_grad",
    "models",
    "raise_if_diverged",
    "task_diverged",
    "tasks",
    "train",
]
