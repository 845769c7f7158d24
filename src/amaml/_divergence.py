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
trajectory only after a failure has been seen.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, PyTree

from ._flow import FlatLoss, GradientFlow
from ._methods import AbstractMetaMethod
from ._params import flat_loss, flatten
from ._scan import time_scan
from ._task import Task

POWER_ITERATIONS = 100


class DivergenceError(RuntimeError):
    """A task's inner trajectory, meta-loss or adjoint became non-finite.

    Attributes:
        task: index of the (first) diverged task in its batch.
        step: first inner step whose state or support loss is non-finite (``1 <= step <=
            steps``), or ``None`` when the forward trajectory stayed finite and only the
            meta-loss or the backward sweep overflowed.
        phase: ``"forward"``, ``"meta-loss"`` or ``"backward"``.
        step_size: the inner step size in use.
        largest_eigenvalue: power-iteration estimate of the largest eigenvalue of the
            inner objective's Hessian at the meta-parameters, for this task.
        suggested_step_size: ``1 / largest_eigenvalue``, half the gradient-descent
            stability limit, leaving room for the curvature to grow during training.
        count: how many tasks of the batch diverged.
    """

    def __init__(self, task: int, step: int | None, phase: str, step_size: float,
                 largest_eigenvalue: float, count: int = 1):
        self.task, self.step, self.phase, self.count = task, step, phase, count
        self.step_size, self.largest_eigenvalue = step_size, largest_eigenvalue
        self.suggested_step_size = 1.0 / largest_eigenvalue if largest_eigenvalue > 0 else None
        where = f"at inner step {step}" if step is not None else f"in the {phase}"
        text = (f"task {task} of the batch diverged {where} ({count} task(s) in all): a non-finite "
                f"{'state' if phase == 'forward' else phase} with step_size={step_size:g}.")
        if largest_eigenvalue > 0:
            text += (f" The largest Hessian eigenvalue at the meta-parameters is about "
                     f"{largest_eigenvalue:.4g}, so h * lambda_max = {step_size * largest_eigenvalue:.3g} "
                     f"(gradient descent needs h * lambda_max < 2); try step_size <= "
                     f"{self.suggested_step_size:.3g}")
            if step_size * largest_eigenvalue < 2:
                text += ", or smaller: the curvature grew along the trajectory"
            text += "."
        text += " To drop diverged tasks from the meta-gradient instead, opt in with skip_diverged=True."
        super().__init__(text)


def task_diverged(values: Float[Array, " B"], grads: Float[Array, "B P"]) -> Bool[Array, " B"]:
    """Per task: is its meta-loss or any meta-gradient entry non-finite? (jittable)"""
    return ~(jnp.isfinite(values) & jnp.all(jnp.isfinite(grads), axis=1))


def largest_eigenvalue(flow: GradientFlow, iterations: int = POWER_ITERATIONS) -> Float[Array, ""]:
    r"""Largest eigenvalue of :math:`H(\theta) + \lambda I` by power iteration on HVPs.

    Power iteration finds the eigenvalue of largest modulus; when that one is negative
    the iteration is repeated on the shifted matrix to find the largest positive one.
    """
    theta = flow.theta

    def iterate(shift):
        def body(v, _):
            w = flow.hvp(theta, v) + shift * v
            return w / (jnp.linalg.norm(w) + jnp.finfo(w.dtype).tiny), None

        v0 = jnp.ones_like(theta) / jnp.sqrt(theta.size)
        v, _ = jax.lax.scan(body, v0, length=iterations)
        return jnp.vdot(v, flow.hvp(theta, v))

    dominant = iterate(0.0)
    return jax.lax.cond(dominant >= 0, lambda: dominant, lambda: iterate(-dominant))


def first_nonfinite_step(method: AbstractMetaMethod, loss: FlatLoss, theta: Float[Array, " P"],
                         task: Task) -> Array:
    """First inner step (1-based) whose state or support loss is non-finite; 0 if none."""
    flow = method.flow(loss, theta, task.support_x, task.support_y)
    solver, h = method.inner_solver, method.step_size

    def body(carry, step):
        u, first = carry
        u = solver.step(flow.stage_field, u, h)[0]
        bad = ~(jnp.all(jnp.isfinite(u)) & jnp.isfinite(flow.train_loss(u)))
        return (u, jnp.where((first == 0) & bad, step, first)), None

    steps = jnp.arange(1, method.steps + 1, dtype=jnp.int32)
    (_, first), _ = time_scan(body, (theta, jnp.zeros((), jnp.int32)), steps, unroll=method.unroll)
    return first


def diagnose(method: AbstractMetaMethod, loss_fn: Callable, params: PyTree, tasks: Task,
             diverged) -> DivergenceError:
    """The error describing the first diverged task of a batch (run eagerly, after a failure)."""
    diverged = np.asarray(diverged)
    index = int(np.flatnonzero(diverged)[0])
    theta, unravel = flatten(params)
    loss = flat_loss(loss_fn, unravel)
    task = jax.tree_util.tree_map(lambda a: a[index], tasks)
    step = int(jax.jit(first_nonfinite_step, static_argnums=(0, 1))(method, loss, theta, task))
    if step:
        phase = "forward"
    else:
        value = method.value(loss, theta, task)
        phase = "backward" if bool(jnp.isfinite(value)) else "meta-loss"
    eigenvalue = float(jax.jit(lambda t, x, y: largest_eigenvalue(method.flow(loss, t, x, y)))(
        theta, task.support_x, task.support_y))
    return DivergenceError(index, step or None, phase, method.step_size, eigenvalue, int(diverged.sum()))


def raise_if_diverged(diverged: Bool[Array, " B"], method: AbstractMetaMethod, loss_fn: Callable,
                      params: PyTree, tasks: Task) -> None:
    """Raise :class:`DivergenceError` if any task of the batch diverged (call outside jit).

    ``diverged`` is the per-task mask returned by :func:`amaml.meta_train_step`; ``params``
    are the meta-parameters the step started from (a guarded step leaves them unchanged)
    and ``tasks`` the batch it used. Costs one host transfer of ``B`` booleans when
    nothing diverged.
    """
    if np.any(np.asarray(diverged)):
        raise diagnose(method, loss_fn, params, tasks, diverged)
