"""The meta-gradient method concept."""

from __future__ import annotations

import abc
import dataclasses

from jaxtyping import Array, Float

from .._flow import FlatLoss, GradientFlow, integrate, meta_objective
from .._solvers import AbstractSolver, Euler
from .._task import Task
from .. import _validate

SOLVERS = "amaml.Euler(), amaml.Heun(), amaml.RK4()"


@dataclasses.dataclass(frozen=True)
class AbstractMetaMethod(abc.ABC):
    r"""A way to compute the meta-gradient of one task; immutable and hashable.

    Every method adapts the meta-parameters :math:`\theta` to a task by ``steps`` steps of
    size ``step_size`` of some discretisation of the inner gradient flow
    :math:`u' = -\nabla L_\mathrm{tr}(u)` (possibly proximal), and defines a meta-loss
    :math:`J(\theta)` on the query set at the adapted parameters. Methods differ in the
    inner dynamics and in which (exact or approximate) gradient of :math:`J` they return.

    Sign convention: every gradient returned is the gradient of the meta-loss, i.e. a
    *descent* direction is its negative, as with ``jax.grad``.

    Subclasses implement :meth:`value_and_grad` on flat parameter vectors. The inner
    dynamics are described by :attr:`inner_solver` and :attr:`inner_prox`, and the meta-loss
    by :attr:`meta_prox`, so that :meth:`adapt` and :meth:`value` are shared.
    """

    steps: int
    step_size: float

    def __post_init__(self) -> None:
        _validate.positive_int("steps", self.steps)
        _validate.positive_float("step_size", self.step_size)

    @property
    def horizon(self) -> float:
        """The inner time horizon ``T = steps * step_size``."""
        return self.steps * self.step_size

    @property
    def inner_solver(self) -> AbstractSolver:
        """The scheme of the inner loop (gradient descent, i.e. Euler, unless overridden)."""
        return Euler()

    @property
    def inner_prox(self) -> float:
        r"""The proximal weight :math:`\lambda` of the inner objective."""
        return 0.0

    @property
    def meta_prox(self) -> float:
        r"""The proximal weight in the meta-loss :math:`L_\mathrm{val}(u_T) + \tfrac\lambda2\lVert u_T-\theta\rVert^2`."""
        return 0.0

    def flow(self, loss: FlatLoss, theta: Float[Array, " P"], x: Array, y: Array) -> GradientFlow:
        """The inner gradient flow of a task with support set ``(x, y)``."""
        return GradientFlow(loss, x, y, theta, self.inner_prox)

    def adapt(self, loss: FlatLoss, theta: Float[Array, " P"], x: Array, y: Array) -> Float[Array, " P"]:
        """Run the method's inner loop from ``theta`` on ``(x, y)``; returns ``u_K``."""
        return integrate(self.inner_solver, self.flow(loss, theta, x, y), self.steps, self.step_size)

    def value(self, loss: FlatLoss, theta: Float[Array, " P"], task: Task) -> Float[Array, ""]:
        """The method's meta-loss of one task (no gradient)."""
        u_final = self.adapt(loss, theta, task.support_x, task.support_y)
        return meta_objective(loss, task.query_x, task.query_y, self.meta_prox)(u_final, theta)

    @abc.abstractmethod
    def value_and_grad(
        self, loss: FlatLoss, theta: Float[Array, " P"], task: Task
    ) -> tuple[Float[Array, ""], Float[Array, " P"]]:
        """The meta-loss of one (unbatched) task and the method's gradient of it."""
