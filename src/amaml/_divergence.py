r"""Diverging inner trajectories: detection inside jitted code, diagnosis outside it.

Gradient descent on a loss whose Hessian has largest eigenvalue :math:`\lambda_{\max}`
is stable only for :math:`h\,\lambda_{\max} < 2` (explicit Euler on :math:`u' = -\nabla L`;
classic RK4 allows :math:`h\,\lambda_{\max} < 2.785`); beyond that the iterates grow
geometrically and overflow to ``inf``/``nan`` within a few dozen steps. The adjoint sweep
shares the same stability limit.

Detection is one ``isfinite`` reduction per task on the per-task meta-loss and
meta-gradient, so it costs nothing inside the inner loop and needs no host callback: a
non-finite state or adjoint anywhere along a trajectory poisons both. Diagnosis -- which
step, what curvature, what step size to use -- re-runs the failing task's forward
trajectory only after a failure has been seen. A finite but exploding meta-loss (larger
in magnitude than ``max_meta_loss``, default ``1e10``) counts as diverged too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, PyTree

from . import _validate
from ._flow import FlatLoss, FlatMeta, GradientFlow
from ._methods import AbstractMetaMethod
from ._problem import prepare
from ._scan import time_scan
from ._task import Task

POWER_ITERATIONS = 100


MAX_META_LOSS = 1e10
"""The default ``max_meta_loss``: a task whose meta-loss magnitude exceeds it counts as diverged."""


class DivergenceKnobs(NamedTuple):
    """How the caller spells the settings that :class:`DivergenceError`'s advice names.

    The defaults are the Python keywords; a training run passes its own config keys, e.g.
    ``DivergenceKnobs(skip="meta.on_divergence = skip", threshold="meta.max_meta_loss",
    step_size="method.step_size")``.

    Attributes:
        skip: what opts in to dropping diverged tasks from the meta-gradient.
        threshold: the name of the meta-loss threshold (``max_meta_loss``).
        step_size: the name of the inner step size.

    Example:
        >>> import amaml
        >>> amaml.DivergenceKnobs(step_size="method.step_size")
        DivergenceKnobs(skip='skip_diverged=True', threshold='max_meta_loss', step_size='method.step_size')
    """

    skip: str = "skip_diverged=True"
    threshold: str = "max_meta_loss"
    step_size: str = "step_size"


class DivergenceError(RuntimeError):
    """A task's inner trajectory, meta-loss or adjoint became non-finite, or its meta-loss exploded.

    Attributes:
        task: index of the (first) diverged task in its batch.
        step: first inner step whose state or support loss is non-finite (``1 <= step <=
            steps``), or ``None`` when the forward trajectory stayed finite and only the
            meta-loss or the backward sweep failed.
        phase: ``"forward"``, ``"meta-loss"`` or ``"backward"``.
        step_size: the inner step size in use.
        largest_eigenvalue: power-iteration estimate of the largest eigenvalue of the
            inner objective's Hessian at the meta-parameters, for this task.
        suggested_step_size: ``1 / largest_eigenvalue``, half the gradient-descent
            stability limit, leaving room for the curvature to grow during training.
        count: how many tasks of the batch diverged.
        meta_loss: the task's meta-loss when it was finite (``None`` otherwise).
        max_meta_loss: the threshold in force (``None``: disabled).
        exceeded: whether the meta-loss was finite but larger in magnitude than
            ``max_meta_loss`` (an exploding trajectory that has not overflowed yet).
        knobs: the :class:`DivergenceKnobs` the advice names.

    Example:
        >>> print(amaml.DivergenceError(0, 3, "forward", 0.5, 10.0))  # doctest: +ELLIPSIS
        task 0 of the batch diverged at inner step 3 (1 task(s) in all): a non-finite state, ...
    """

    def __init__(
        self,
        task: int,
        step: int | None,
        phase: str,
        step_size: float,
        largest_eigenvalue: float,
        count: int = 1,
        *,
        meta_loss: float | None = None,
        max_meta_loss: float | None = None,
        knobs: DivergenceKnobs = DivergenceKnobs(),
    ):
        self.task, self.step, self.phase, self.count = task, step, phase, count
        self.step_size, self.largest_eigenvalue = step_size, largest_eigenvalue
        self.meta_loss, self.max_meta_loss, self.knobs = meta_loss, max_meta_loss, knobs
        self.exceeded = (
            phase == "meta-loss"
            and meta_loss is not None
            and max_meta_loss is not None
            and math.isfinite(meta_loss)
            and abs(meta_loss) > max_meta_loss
        )
        self.suggested_step_size = 1.0 / largest_eigenvalue if largest_eigenvalue > 0 else None
        where = f"at inner step {step}" if step is not None else f"in the {phase}"
        if self.exceeded:
            what = (
                f"its meta-loss {meta_loss:.3g} is finite but exceeds {knobs.threshold}={max_meta_loss:g} "
                f"(the inner trajectory is exploding)"
            )
        else:
            what = f"a non-finite {'state' if phase == 'forward' else phase}"
        text = (
            f"task {task} of the batch diverged {where} ({count} task(s) in all): {what}, "
            f"with {knobs.step_size}={step_size:g}."
        )
        if largest_eigenvalue > 0:
            text += (
                f" The largest Hessian eigenvalue at the meta-parameters is about "
                f"{largest_eigenvalue:.4g}, so h * lambda_max = {step_size * largest_eigenvalue:.3g} "
                f"(gradient descent needs h * lambda_max < 2); try {knobs.step_size} <= "
                f"{self.suggested_step_size:.3g}"
            )
            if step_size * largest_eigenvalue < 2:
                text += ", or smaller: the curvature grew along the trajectory"
            text += "."
        if self.exceeded:
            text += f" If meta-losses this large are expected, raise {knobs.threshold} (None disables the check)."
        text += f" To drop diverged tasks from the meta-gradient instead, opt in with {knobs.skip}."
        super().__init__(text)


def check_max_meta_loss(max_meta_loss: float | None) -> float | None:
    """``None``, or a positive finite threshold (a clear error otherwise)."""
    return None if max_meta_loss is None else _validate.positive_float("max_meta_loss", max_meta_loss)


def task_diverged(
    values: Float[Array, " B"], grads: Float[Array, "B P"], max_meta_loss: float | None = MAX_META_LOSS
) -> Bool[Array, " B"]:
    """Per task: did it diverge? (jittable)

    A task diverged when its meta-loss or any meta-gradient entry is non-finite, or when
    its meta-loss magnitude exceeds ``max_meta_loss`` (``None`` disables that check): in
    float64 an unstable inner loop can reach losses of 1e65 or 1e198 long before it
    overflows, and such a meta-gradient is as useless as a NaN.

    Args:
        values, grads: every task's meta-loss, ``(B,)``, and flat meta-gradient, ``(B, P)``.
        max_meta_loss: the largest meta-loss magnitude that counts as healthy (default
            ``1e10``); ``None``: finiteness only.

    Returns:
        A boolean array of shape ``(B,)``, ``True`` where the task diverged.

    Example:
        >>> import jax.numpy as jnp, amaml
        >>> amaml.task_diverged(jnp.array([1.0, jnp.nan, 1e12]), jnp.zeros((3, 2))).tolist()
        [False, True, True]
    """
    diverged = ~(jnp.isfinite(values) & jnp.all(jnp.isfinite(grads), axis=1))
    if check_max_meta_loss(max_meta_loss) is not None:
        diverged = diverged | (jnp.abs(values) > max_meta_loss)
    return diverged


def largest_eigenvalue(flow: GradientFlow, iterations: int = POWER_ITERATIONS) -> Float[Array, ""]:
    r"""Largest eigenvalue of :math:`H(\theta) + \lambda I` by power iteration on HVPs.

    With rates :math:`r` the flow is :math:`-r \odot \nabla L`, whose stability is set by
    :math:`D^{1/2} (H + \lambda I) D^{1/2}`, :math:`D = \mathrm{diag}(r)` (similar to
    :math:`D(H + \lambda I)`); that matrix's eigenvalue is returned.
    Power iteration finds the eigenvalue of largest modulus; when that one is negative
    the iteration is repeated on the shifted matrix to find the largest positive one.
    """
    theta = flow.theta
    root = None if flow.rates is None else jnp.sqrt(flow.rates)

    def product(v):
        return flow.hvp(theta, v) if root is None else root * flow.hvp(theta, root * v)

    def iterate(shift):
        def body(v, _):
            w = product(v) + shift * v
            return w / (jnp.linalg.norm(w) + jnp.finfo(w.dtype).tiny), None

        v0 = jnp.ones_like(theta) / jnp.sqrt(theta.size)
        v, _ = jax.lax.scan(body, v0, length=iterations)
        return jnp.vdot(v, product(v))

    dominant = iterate(0.0)
    return jax.lax.cond(dominant >= 0, lambda: dominant, lambda: iterate(-dominant))


def first_nonfinite_step(method: AbstractMetaMethod, loss: FlatLoss, meta: FlatMeta, task: Task) -> Array:
    """First inner step (1-based) whose state or support loss is non-finite; 0 if none."""
    flow = method.flow(loss, meta, task.support_x, task.support_y)
    solver, h = method.inner_solver, method.inner_step(meta)

    def body(carry, step):
        u, first = carry
        u = solver.step(flow.stage_field, u, h)[0]
        bad = ~(jnp.all(jnp.isfinite(u)) & jnp.isfinite(flow.train_loss(u)))
        return (u, jnp.where((first == 0) & bad, step, first)), None

    steps = jnp.arange(1, method.steps + 1, dtype=jnp.int32)
    (_, first), _ = time_scan(body, (meta.theta, jnp.zeros((), jnp.int32)), steps, unroll=method.unroll)
    return first


def diagnose(
    method: AbstractMetaMethod,
    loss_fn: Callable,
    params: PyTree,
    tasks: Task,
    diverged,
    max_meta_loss: float | None = MAX_META_LOSS,
    knobs: DivergenceKnobs = DivergenceKnobs(),
) -> DivergenceError:
    """The error describing the first diverged task of a batch (run eagerly, after a failure)."""
    diverged = np.asarray(diverged)
    index = int(np.flatnonzero(diverged)[0])
    problem, meta_params, _ = prepare(loss_fn, params)
    task = jax.tree_util.tree_map(lambda a: a[index], tasks)
    loss, meta, _ = problem.view(meta_params, task.support_x, task.query_x)
    step = int(jax.jit(lambda m, t: first_nonfinite_step(method, loss, m, t))(meta, task))
    value = None
    if step:
        phase = "forward"
    else:
        value = float(method.value(loss, meta, task))
        too_large = max_meta_loss is not None and abs(value) > max_meta_loss
        phase = "backward" if math.isfinite(value) and not too_large else "meta-loss"
    eigenvalue = float(
        jax.jit(lambda m, x, y: largest_eigenvalue(method.flow(loss, m, x, y)))(meta, task.support_x, task.support_y)
    )
    return DivergenceError(
        index,
        step or None,
        phase,
        float(method.inner_step(meta)),
        eigenvalue,
        int(diverged.sum()),
        meta_loss=value if value is not None and math.isfinite(value) else None,
        max_meta_loss=max_meta_loss,
        knobs=knobs,
    )


def raise_if_diverged(
    diverged: Bool[Array, " B"],
    method: AbstractMetaMethod,
    loss_fn: Callable,
    params: PyTree,
    tasks: Task,
    *,
    max_meta_loss: float | None = MAX_META_LOSS,
    knobs: DivergenceKnobs = DivergenceKnobs(),
) -> None:
    """Raise :class:`DivergenceError` if any task of the batch diverged (call outside jit).

    ``diverged`` is the per-task mask returned by :func:`amaml.meta_train_step`; ``params``
    are the meta-parameters the step started from (a guarded step leaves them unchanged)
    and ``tasks`` the batch it used. Costs one host transfer of ``B`` booleans when
    nothing diverged.

    Args:
        diverged, method, loss_fn, params, tasks: as above.
        max_meta_loss: the threshold the step used (pass the same value as to
            :func:`amaml.meta_train_step`), so that the error can say whether the meta-loss
            was non-finite or only too large.
        knobs: how the advice names the caller's settings, e.g. a run's config keys.

    Raises:
        DivergenceError: describing the first diverged task (phase, step, step size).

    Example:
        >>> import jax.numpy as jnp, amaml, optax  # below: h * lambda_max = 10 * 6, far beyond 2
        >>> loss = lambda p, x, y: jnp.mean((x @ p - y) ** 2)  # Hessian 2 X^T X / n, largest eigenvalue 6
        >>> tasks = amaml.Task(jnp.ones((2, 4, 3)), jnp.ones((2, 4)), jnp.ones((2, 4, 3)), jnp.ones((2, 4)))
        >>> method, optimizer, params = amaml.MAML(200, 10.0), optax.sgd(0.1), jnp.zeros(3)
        >>> step = amaml.meta_train_step(method, loss, optimizer, params, optimizer.init(params), tasks)
        >>> try:
        ...     amaml.raise_if_diverged(step.diverged, method, loss, params, tasks)
        ... except amaml.DivergenceError as error:
        ...     print(error.task, error.phase, round(error.suggested_step_size, 3))
        0 forward 0.167
    """
    if np.any(np.asarray(diverged)):
        raise diagnose(method, loss_fn, params, tasks, diverged, check_max_meta_loss(max_meta_loss), knobs)
