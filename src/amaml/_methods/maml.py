"""MAML: automatic differentiation through the unrolled inner loop."""

from __future__ import annotations

import dataclasses
from typing import ClassVar, final

import jax

from .._flow import FlatLoss, FlatMeta
from .._solvers import AbstractSolver, Euler
from .._task import Task
from ._base import ALL_FIELDS, AbstractMetaMethod, step_size_option, steps_option, unroll_option


@final
@dataclasses.dataclass(frozen=True)
class MAML(AbstractMetaMethod):
    r"""Second-order MAML (Finn et al., 2017): ``jax.grad`` through ``steps`` SGD steps.

    Inner loop :math:`u_{j+1} = u_j - h \nabla L_\mathrm{tr}(u_j)`, :math:`u_0 = \theta`;
    meta-loss :math:`J = L_\mathrm{val}(u_K)`; gradient :math:`\nabla_\theta J` exact, by
    reverse-mode autodiff through the loop. Autodiff keeps the residuals of every step, so
    memory grows linearly with ``steps``: this is the reference everyone knows, not the
    way to run long loops (:class:`DiscreteAdjoint` gives the same gradient at flat memory).
    MAML-1 is ``MAML(steps=1, step_size=...)``.

    With :class:`amaml.MetaParams` the loop is :math:`u_{j+1} = u_j - (T/K)\, r \odot
    \nabla_u L(u_j; \phi)` and autodiff differentiates every field (ANIL, Meta-SGD, a
    learned horizon), exactly and with the same linear memory.

    Args:
        steps: number of inner SGD steps ``K``.
        step_size: the inner learning rate ``h``.
        unroll: (keyword-only) steps per scan iteration; ``None`` (default) picks by backend.

    Raises:
        TypeError, ValueError: naming the first invalid argument.

    Example:
        MAML-1 is ``jax.grad`` through one SGD step:

        >>> import jax, jax.numpy as jnp, amaml
        >>> loss = lambda p, x, y: 0.5 * jnp.mean((x @ p - y) ** 2)
        >>> x = jnp.linspace(-1.0, 1.0, 12).reshape(1, 4, 3)  # 1 task, 4 examples, 3 features
        >>> tasks = amaml.Task(x, jnp.ones((1, 4)), x, jnp.ones((1, 4)))
        >>> _, g = amaml.meta_value_and_grad(amaml.MAML(1, 0.1), loss, jnp.zeros(3), tasks)
        >>> inner = lambda p: p - 0.1 * jax.grad(loss)(p, x[0], jnp.ones(4))
        >>> by_hand = jax.grad(lambda p: loss(inner(p), x[0], jnp.ones(4)))(jnp.zeros(3))
        >>> bool(jnp.allclose(g, by_hand, rtol=1e-5, atol=1e-7))
        True

    References:
        Finn, Abbeel, Levine, "Model-Agnostic Meta-Learning for Fast Adaptation of Deep
        Networks", ICML 2017.
    """

    steps: int = steps_option()
    step_size: float = step_size_option()
    unroll: int | None = unroll_option()
    inner_solver: ClassVar[AbstractSolver] = Euler()
    inner_prox: ClassVar[float] = 0.0
    meta_prox: ClassVar[float] = 0.0
    learnable: ClassVar[frozenset[str]] = ALL_FIELDS

    def __post_init__(self) -> None:
        self._check_common()

    def value_and_meta_grad(self, loss: FlatLoss, meta: FlatMeta, task: Task, tasks: int = 1):
        return jax.value_and_grad(self.value, argnums=1)(loss, meta, task)
