"""Meta-training and evaluation: pure functions of (method, loss, params, data, step)."""

from ._evaluate import AbstractFineTuning as AbstractFineTuning
from ._evaluate import AdamFineTuning as AdamFineTuning
from ._evaluate import InnerLoopFineTuning as InnerLoopFineTuning
from ._evaluate import nrmse_curve as nrmse_curve
from ._loop import make_update as make_update
from ._loop import meta_batch_at as meta_batch_at

__all__ = ["AbstractFineTuning", "AdamFineTuning", "InnerLoopFineTuning", "make_update", "meta_batch_at", "nrmse_curve"]
