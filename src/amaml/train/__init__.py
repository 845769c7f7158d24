"""Meta-training runs usable from Python: configuration, training, resuming, evaluation.

The pieces, from the pure core outwards:

- :func:`make_update` and :func:`meta_batch_at`: the jitted meta-update whose meta-batch is
  drawn from ``fold_in(key, step)`` (around :func:`amaml.meta_train_step`);
- :class:`RunConfig` and its sections (:class:`FunctionTasks`, :class:`RatingTasks`, :class:`OmniglotTasks`,
  :class:`SGD`, :class:`Adam`, :class:`MetaTraining`, :class:`RunSettings`; a method
  object and a :class:`amaml.models.MLP`), with typed ``SECTION.KEY=VALUE`` overrides;
- :func:`run`: train into a directory, resume, extend; Ctrl-C stops cleanly;
- :func:`load_run` and :func:`evaluate_run`: read a run back and score it on its test tasks.

Example:
    >>> import amaml
    >>> from amaml.train import MetaTraining, RunConfig
    >>> config = RunConfig(method=amaml.MAML(5, 0.01), meta=MetaTraining(steps=20))
    >>> result = amaml.train.run(config, "runs/demo")  # doctest: +SKIP
"""

from ._checkpoint import RunDirectoryInUse as RunDirectoryInUse
from ._checkpoint import RunLock as RunLock
from ._checkpoint import load_latest_checkpoint as load_latest_checkpoint
from ._checkpoint import read_metrics as read_metrics
from ._checkpoint import save_checkpoint as save_checkpoint
from ._classify import accuracy_summary as accuracy_summary
from ._classify import episode_accuracy as episode_accuracy
from ._config import RunConfig as RunConfig
from ._eval_run import MODES as MODES
from ._eval_run import evaluate_run as evaluate_run
from ._evaluate import AbstractFineTuning as AbstractFineTuning
from ._evaluate import AdamFineTuning as AdamFineTuning
from ._evaluate import InnerLoopFineTuning as InnerLoopFineTuning
from ._evaluate import nrmse_curve as nrmse_curve
from ._omniglot_tasks import OmniglotEpisodes as OmniglotEpisodes
from ._omniglot_tasks import OmniglotTasks as OmniglotTasks
from ._parts import RunParts as RunParts
from ._parts import TrainedRun as TrainedRun
from ._parts import build_parts as build_parts
from ._parts import load_run as load_run
from ._registries import FAMILIES as FAMILIES
from ._registries import FEATURES as FEATURES
from ._registries import METHODS as METHODS
from ._registries import MODELS as MODELS
from ._registries import OPTIMIZERS as OPTIMIZERS
from ._registries import SOLVERS as SOLVERS
from ._registries import TASK_SOURCES as TASK_SOURCES
from ._run import run as run
from ._run_types import Progress as Progress
from ._run_types import RunInterrupted as RunInterrupted
from ._run_types import RunResult as RunResult
from ._sections import SGD as SGD
from ._sections import AbstractOptimizer as AbstractOptimizer
from ._sections import Adam as Adam
from ._sections import MetaTraining as MetaTraining
from ._sections import RunSettings as RunSettings
from ._sources import AbstractRegressionTasks as AbstractRegressionTasks
from ._sources import AbstractTaskSource as AbstractTaskSource
from ._sources import FunctionTasks as FunctionTasks
from ._sources import RatingTasks as RatingTasks
from ._step import MetaStep as MetaStep
from ._step import meta_train_step as meta_train_step
from ._update import make_update as make_update
from ._update import meta_batch_at as meta_batch_at

__all__ = [
    "FAMILIES",
    "FEATURES",
    "METHODS",
    "MODELS",
    "MODES",
    "OPTIMIZERS",
    "SGD",
    "SOLVERS",
    "TASK_SOURCES",
    "AbstractFineTuning",
    "AbstractOptimizer",
    "AbstractTaskSource",
    "Adam",
    "AdamFineTuning",
    "FunctionTasks",
    "OmniglotEpisodes",
    "OmniglotTasks",
    "AbstractRegressionTasks",
    "InnerLoopFineTuning",
    "MetaTraining",
    "Progress",
    "RatingTasks",
    "accuracy_summary",
    "episode_accuracy",
    "RunConfig",
    "RunDirectoryInUse",
    "RunInterrupted",
    "RunLock",
    "RunParts",
    "RunResult",
    "RunSettings",
    "TrainedRun",
    "build_parts",
    "evaluate_run",
    "load_latest_checkpoint",
    "load_run",
    "make_update",
    "meta_batch_at",
    "meta_train_step",
    "MetaStep",
    "nrmse_curve",
    "read_metrics",
    "run",
    "save_checkpoint",
]
