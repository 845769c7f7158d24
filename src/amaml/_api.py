"""The two entry points: the batched meta-gradient and single-task adaptation."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PyTree, Shaped

from ._checkpoints import CheckpointPlan
from ._divergence import MAX_META_LOSS, check_max_meta_loss, raise_if_diverged, task_diverged
from ._meta import MetaParams
from ._methods import AbstractMetaMethod
from ._methods._adjoint_base import AbstractAdjointMethod
from ._params import flatten
from ._problem import prepare
from ._task import Task, check_input_dtype, check_set, check_tasks
from ._validate import instance_of, positive_int

METHODS = "amaml.AdjointMAML, DiscreteAdjoint, MAML, FOMAML, IMAML or Reptile"


def meta_value_and_grad(
    method: AbstractMetaMethod,
    loss_fn: Callable[..., Float[Array, ""]],
    params: PyTree | MetaParams,
    tasks: Task,
    *,
    max_meta_loss: float | None = MAX_META_LOSS,
) -> tuple[Float[Array, ""], PyTree | MetaParams]:
    r"""Mean meta-loss over a batch of tasks and the method's gradient of it.

    .. math::
        J(\theta) = \frac1B \sum_{b=1}^B J_b(\theta), \qquad
        g = \frac1B \sum_{b=1}^B g_b(\theta),

    where :math:`J_b` is ``method``'s meta-loss of task ``b`` (the query loss after the
    method's inner loop) and :math:`g_b` the method's gradient of it: exact for
    :class:`MAML` and :class:`DiscreteAdjoint`, an :math:`O(h^p)` approximation for
    :class:`AdjointMAML`, a surrogate for the first-order methods (see each class).

    Tasks are vectorised with ``jax.vmap``; the function is pure and can be wrapped in
    ``jax.jit`` (close over ``method`` and ``loss_fn``, or mark them static).

    Divergence: called eagerly, a task whose trajectory, meta-loss or adjoint is
    non-finite, or whose meta-loss magnitude exceeds ``max_meta_loss``, raises
    :class:`DivergenceError` (task, phase, step, suggested step size). Under ``jax.jit``
    nothing is checked and the values propagate into the result; :func:`meta_train_step`
    guards the update and reports the diverged tasks instead.

    Meta-parameters inside the loop: pass a :class:`MetaParams` (shared parameters, rates, a
    horizon) and ``grad`` is a :class:`MetaParams` with the gradient of every field set,
    from the same forward solve and sweep (see :class:`AdjointMAML` and
    :class:`DiscreteAdjoint` for the sums; :class:`MAML` differentiates through the loop).
    A method that has no gradient for a field set (``method.learnable``) is an error.

    Args:
        method: a meta-gradient method object, e.g. ``AdjointMAML(steps=200, step_size=0.01)``.
        loss_fn: ``loss_fn(params, x, y) -> scalar``; with ``MetaParams.shared``,
            ``loss_fn(adapted, shared, x, y)``, or a :class:`FeatureLoss` (the body runs once
            per task instead of once per inner step).
        params: the meta-parameters: any pytree of floating arrays of one dtype (the
            initialisation :math:`\theta`), or a :class:`MetaParams`.
        tasks: a batch of tasks (:class:`Task` with a leading task axis on every array).
        max_meta_loss: (keyword-only) called eagerly, a task whose meta-loss magnitude
            exceeds this counts as diverged (default ``1e10``); ``None`` checks finiteness only.

    Returns:
        ``(meta_loss, grad)``; ``grad`` has the structure and dtype of ``params``. Gradient
        sign convention as ``jax.grad``: descend along ``-grad``.

    Raises:
        TypeError, ValueError: for invalid arguments, before any computation.
        DivergenceError: called eagerly, when a task diverged (see above).

    Example:
        >>> import jax, jax.numpy as jnp, amaml
        >>> loss = lambda p, x, y: jnp.mean((x @ p["w"] - y) ** 2)
        >>> tasks = amaml.Task(jnp.ones((2, 4, 3)), jnp.ones((2, 4)), jnp.ones((2, 4, 3)), jnp.ones((2, 4)))
        >>> meta = amaml.MetaParams(init={"w": jnp.zeros(3)}, horizon=jnp.asarray(0.1))
        >>> value, grad = amaml.meta_value_and_grad(amaml.DiscreteAdjoint(10, 0.01), loss, meta, tasks)
        >>> grad.horizon.shape
        ()

    References:
        Li et al., "Meta-Learning with Adjoint Methods", AISTATS 2023 (the continuous adjoint).
    """
    check_max_meta_loss(max_meta_loss)
    values, grads, unravel = per_task_value_and_grad(method, loss_fn, params, tasks)
    if not isinstance(values, jax.core.Tracer):  # called eagerly: the values are at hand
        raise_if_diverged(
            task_diverged(values, grads, max_meta_loss), method, loss_fn, params, tasks, max_meta_loss=max_meta_loss
        )
    return jnp.mean(values), unravel(jnp.mean(grads, axis=0))


def per_task_value_and_grad(
    method: AbstractMetaMethod,
    loss_fn: Callable[..., Float[Array, ""]],
    params: PyTree | MetaParams,
    tasks: Task,
) -> tuple[Float[Array, " B"], Float[Array, "B P"], Callable[[Array], PyTree]]:
    """Every task's meta-loss and flat meta-gradient, and the map from flat vectors back
    to the structure of ``params`` (checks the arguments first)."""
    instance_of("method", method, AbstractMetaMethod, METHODS)
    problem, meta, dtype = prepare(loss_fn, params, method)
    count = check_tasks(tasks, dtype)  # the meta-batch shares the adjoint's memory_budget
    values, grads = jax.vmap(lambda task: problem.value_and_grad(method, meta, task, count))(tasks)
    return values, grads, problem.unravel_grad(meta)


def adapt(
    method: AbstractMetaMethod,
    loss_fn: Callable[..., Float[Array, ""]],
    params: PyTree | MetaParams,
    support_x: Shaped[Array, "n ..."],
    support_y: Shaped[Array, "n ..."],
) -> PyTree:
    """Adapt ``params`` to one task with the method's own inner loop.

    Runs ``method.steps`` steps of ``method.inner_solver`` with ``method.step_size`` on the
    (proximal, for the methods that have one) gradient flow of ``loss_fn`` on the support
    set, starting from ``params``. Memory is independent of ``steps``.

    With a :class:`MetaParams` the inner loop uses its rates, horizon and shared
    parameters (every method supports every field here) and adapts ``init``.

    Args:
        method: the meta-gradient method whose inner dynamics to use.
        loss_fn: as for :func:`meta_value_and_grad`.
        params: the starting point (usually the meta-learned initialisation), or a
            :class:`MetaParams`.
        support_x, support_y: one task's support set, shape ``(n, ...)`` (no task axis).

    Returns:
        The adapted parameters, same pytree structure and dtype as ``params`` (as
        ``params.init`` for a :class:`MetaParams`).

    Raises:
        TypeError, ValueError: for invalid arguments, before any computation.

    Example:
        >>> import jax.numpy as jnp, amaml
        >>> loss = lambda p, x, y: 0.5 * jnp.mean((x @ p["w"] - y) ** 2)
        >>> x, y = jnp.linspace(-1.0, 1.0, 12).reshape(4, 3), jnp.ones(4)  # one task's support set
        >>> params = {"w": jnp.zeros(3)}
        >>> adapted = amaml.adapt(amaml.MAML(5, 0.1), loss, params, x, y)
        >>> adapted["w"].shape, bool(loss(adapted, x, y) < loss(params, x, y))
        ((3,), True)
    """
    instance_of("method", method, AbstractMetaMethod, METHODS)
    problem, meta, dtype = prepare(loss_fn, params)
    check_set(support_x, support_y, "support_x", "support_y", 0)
    check_input_dtype("support_x", support_x, dtype)
    return problem.adapt(method, meta, support_x, support_y)


def checkpoint_plan(
    method: AbstractAdjointMethod, params: PyTree | MetaParams, tasks: int | Task = 1
) -> CheckpointPlan:
    """What an adjoint method keeps of its forward trajectory for these parameters and meta-batch.

    The plan is the one :func:`meta_value_and_grad` will use: it depends on ``steps``,
    ``checkpoints``, ``memory_budget`` (shared by the whole meta-batch; by default a quarter
    of the device's memory), the backward scheme (RK4 backward stores the vector field
    too), the size and dtype of ``params`` and the number of tasks, not on the data.
    Cheap: no tracing.

    Args:
        method: an :class:`AdjointMAML` or :class:`DiscreteAdjoint`.
        params: the meta-parameters (only their size and dtype matter).
        tasks: the meta-batch size, or the batched :class:`Task` itself (its leading axis).

    Returns:
        A :class:`CheckpointPlan`; its ``description`` is one line such as
        ``"stores all 101 states"`` or ``"2 levels of 5 segment starts, leaf 4 (2 extra
        forward solves, 200 steps recomputed)"``.

    Raises:
        TypeError: for a method that keeps no trajectory for an adjoint sweep (MAML's
            autodiff stores every step's residuals; FOMAML, Reptile and IMAML keep none).
        ValueError: for a task count below 1.

    Example:
        >>> import jax.numpy as jnp, amaml
        >>> method = amaml.AdjointMAML(100, 0.01, memory_budget=2**21)
        >>> amaml.checkpoint_plan(method, {"w": jnp.zeros(100, jnp.float32)}, tasks=16).description
        'stores all 101 states'
        >>> amaml.checkpoint_plan(method, {"w": jnp.zeros(500, jnp.float32)}, tasks=16).levels
        1
    """
    if not isinstance(method, AbstractAdjointMethod):
        raise TypeError(
            f"`method` must be an adjoint method (amaml.AdjointMAML or amaml.DiscreteAdjoint) to have a "
            f"checkpoint plan, got {method!r}: the other methods keep no trajectory for a backward sweep."
        )
    count = tasks.support_x.shape[0] if isinstance(tasks, Task) else tasks
    positive_int("tasks", count)
    theta, _ = flatten(params.init if isinstance(params, MetaParams) else params)
    return method.checkpoint_plan(theta, count)
