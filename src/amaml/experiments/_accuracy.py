r"""How accurate each meta-gradient is against the step size: `amaml reproduce adjoint-accuracy`.

On one problem (a tanh MLP on sinusoid tasks, float64) with the horizon :math:`T` fixed and
:math:`K = T / h` steps, each method's meta-gradient is compared with two references:

- the gradient of the *continuous* objective :math:`L_\mathrm{val}(u(T))`, the limit of every
  consistent method as :math:`h \to 0` (computed by the exact discrete adjoint of RK4 at a
  much finer step, whose own error is :math:`O(h^4)`, far below the others');
- MAML's gradient at the same :math:`K` (the exact gradient of :math:`K` gradient-descent
  steps), which is what a user replacing MAML by an adjoint method at equal :math:`K` compares with.

The fitted slopes of log error against log h are the methods' orders of accuracy.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from .. import _validate
from .._registry import Registry

log = logging.getLogger("amaml")


@dataclasses.dataclass(frozen=True)
class AccuracyBudget:
    """The step sizes and the problem of the accuracy study.

    Attributes:
        name: the budget's name.
        steps: the K values; the step is ``horizon / K``.
        horizon: the fixed inner horizon T.
        reference_steps: the K of the fine RK4 reference for the continuous gradient.
        width: the MLP's hidden width (two tanh layers).
        tasks: sinusoid tasks in the meta-batch (10 support, 10 query points each).
        description: the budget in words.

    Raises:
        ValueError: for a non-positive K or horizon, or a reference not at least 8x finer than the largest K.

    Example:
        >>> budget = ACCURACY_BUDGETS["standard"]
        >>> budget.steps[-1], budget.horizon / budget.steps[-1]
        (128, 0.00390625)
    """

    name: str
    steps: tuple[int, ...]
    horizon: float = 0.5
    reference_steps: int = 8192
    width: int = 32
    tasks: int = 4
    description: str = ""

    def __post_init__(self) -> None:
        for k in self.steps:
            _validate.positive_int("steps", k)
        _validate.positive_float("horizon", self.horizon)
        if self.reference_steps < 8 * max(self.steps):
            raise ValueError(f"`reference_steps` must be at least 8x the largest K, got {self.reference_steps}.")


ACCURACY_BUDGETS: Registry[AccuracyBudget] = Registry(
    "budget",
    {
        "quick": AccuracyBudget("quick", (2, 4, 8), reference_steps=256, description="three step sizes: a smoke run"),
        "standard": AccuracyBudget(
            "standard", (1, 2, 4, 8, 16, 32, 64, 128), description="K = 1 ... 128 at T = 0.5, RK4 reference at K = 8192"
        ),
    },
)
"""Budget name -> :class:`AccuracyBudget` of ``amaml reproduce adjoint-accuracy``."""


def _methods(steps: int, h: float) -> dict:
    import amaml

    return {
        "A-MAML euler/euler": amaml.AdjointMAML(steps, h, forward=amaml.Euler(), backward=amaml.Euler()),
        "A-MAML heun/heun": amaml.AdjointMAML(steps, h, forward=amaml.Heun(), backward=amaml.Heun()),
        "A-MAML rk4/rk4": amaml.AdjointMAML(steps, h),
        "discrete adjoint euler (= MAML)": amaml.DiscreteAdjoint(steps, h),
        "discrete adjoint rk4": amaml.DiscreteAdjoint(steps, h, forward=amaml.RK4()),
        "FOMAML": amaml.FOMAML(steps, h),
    }


def reproduce_accuracy(budget: AccuracyBudget, out_dir: Path, *, progress: Callable | None = None) -> dict:
    """Every method's relative gradient error against the step size.

    For each K of the budget (step ``h = T / K``), the meta-gradients of A-MAML (Euler, Heun, RK4
    both ways), the discrete adjoint (Euler, which is MAML's gradient, and RK4) and FOMAML, each
    compared with the continuous gradient (the RK4 discrete adjoint at ``reference_steps``) and
    with MAML's gradient at the same K, as relative 2-norm differences.

    Args:
        budget: the step sizes and the problem.
        out_dir: unused (nothing is written; :func:`write_accuracy_report` writes the report).
        progress: unused: the study takes about a minute, and each point is logged at debug level.

    Returns:
        ``{"rows": [{"method", "steps", "step_size", "vs_flow", "vs_maml"}], "reference": {...}}``.

    Raises:
        ValueError: without float64 (``jax_enable_x64``), before any work.

    Example:
        >>> budget = AccuracyBudget("tiny", (2, 4), reference_steps=32, width=4, tasks=1)
        >>> # skipped here: 15 compiled gradients take about 20 s
        >>> rows = reproduce_accuracy(budget, None)["rows"]  # doctest: +SKIP
        >>> [r["vs_maml"] < 1e-12 for r in rows if r["method"] == "discrete adjoint euler (= MAML)"]  # doctest: +SKIP
        [True, True]
    """
    import amaml

    if not jax.config.jax_enable_x64:
        raise ValueError("the accuracy study needs float64: jax.config.update('jax_enable_x64', True).")
    params = amaml.models.mlp_init(jax.random.key(0), [1, budget.width, budget.width, 1], jnp.float64)
    tasks = amaml.tasks.Sinusoid().sample_tasks(jax.random.key(1), budget.tasks, 10, 10)
    tasks = jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), tasks)
    loss = amaml.losses.mse(amaml.models.mlp_apply)

    def gradient(method):
        _, grad = jax.jit(lambda p, t: amaml.meta_value_and_grad(method, loss, p, t))(params, tasks)
        return np.asarray(ravel_pytree(grad)[0])

    fine = budget.reference_steps
    flow = gradient(amaml.DiscreteAdjoint(fine, budget.horizon / fine, forward=amaml.RK4()))
    rows = []
    for k in budget.steps:
        h = budget.horizon / k
        maml = gradient(amaml.MAML(k, h))
        for label, method in _methods(k, h).items():
            g = gradient(method)
            rows.append(
                {
                    "method": label,
                    "steps": k,
                    "step_size": h,
                    "vs_flow": float(np.linalg.norm(g - flow) / np.linalg.norm(flow)),
                    "vs_maml": float(np.linalg.norm(g - maml) / np.linalg.norm(maml)),
                }
            )
            log.debug("%s", rows[-1])
    return {"rows": rows, "reference": {"steps": fine, "solver": "RK4, exact discrete adjoint"}}


def fitted_orders(rows: list[dict], key: str, smallest: int = 4) -> dict[str, float]:
    """Per method, the slope of log error against log h over the ``smallest`` smallest steps.

    Args:
        rows: :func:`reproduce_accuracy`'s rows.
        key: ``"vs_flow"`` or ``"vs_maml"``.
        smallest: how many of the smallest step sizes the fit uses (where the error is asymptotic).

    Returns:
        ``{method: order}`` (nan where fewer than two points, or an error is zero).

    Example:
        >>> rows = [{"method": "m", "step_size": h, "vs_flow": 3 * h**2} for h in (0.1, 0.05, 0.025)]
        >>> round(fitted_orders(rows, "vs_flow")["m"], 6)
        2.0
    """
    orders = {}
    for method in dict.fromkeys(r["method"] for r in rows):
        points = sorted((r["step_size"], r[key]) for r in rows if r["method"] == method)[:smallest]
        if len(points) < 2 or any(e <= 0 for _, e in points):
            orders[method] = float("nan")
            continue
        h, e = np.log([p[0] for p in points]), np.log([p[1] for p in points])
        orders[method] = float(np.polyfit(h, e, 1)[0])
    return orders
