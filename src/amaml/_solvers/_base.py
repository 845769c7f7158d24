"""The solver concept: one explicit Runge--Kutta step given by a Butcher tableau.

Every solver here is a final class that only declares its tableau; the stepping, the
dense-output requirement and the exact transpose (discrete adjoint) of a step are written
once, in :class:`AbstractSolver`.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import jax

State = Any  # a pytree of arrays; the inner state is a flat vector, the adjoint state a tuple
StageField = Callable[[float, State], State]


def _combine(y: State, h: float, coefficients: Sequence[float], ks: Sequence[State]) -> State:
    """Return ``y + h * sum_i coefficients[i] * ks[i]``, skipping zero coefficients.

    Coefficients are Python floats known at trace time, so zero terms cost nothing.
    """
    terms = [(coef, k) for coef, k in zip(coefficients, ks) if coef != 0.0]
    if not terms:
        return y

    def leaf(y_leaf, *k_leaves):
        total = terms[0][0] * k_leaves[0]
        for (coef, _), k_leaf in zip(terms[1:], k_leaves[1:]):
            total = total + coef * k_leaf
        return y_leaf + h * total

    return jax.tree_util.tree_map(leaf, y, *[k for _, k in terms])


class AbstractSolver(abc.ABC):
    r"""An explicit Runge--Kutta method for :math:`y' = f(c, y)` with a fixed step ``h``.

    The tableau (``a``, ``b``, ``c``) defines one step from :math:`y_n` to
    :math:`y_{n+1}`:

    .. math::
        Y_i = y_n + h \sum_{j<i} a_{ij} k_j, \quad k_i = f(c_i, Y_i), \quad
        y_{n+1} = y_n + h \sum_i b_i k_i .

    The vector field receives each stage's *fractional time* :math:`c_i \in [0, 1]` as a
    Python float, so a time-dependent field (the adjoint sweep) can tell grid points from
    points that need interpolation at trace time.

    The local error is :math:`O(h^{p+1})` and the global error :math:`O(h^p)` with
    ``p = order``.

    Abstract attributes:
        a: the strictly lower triangular coefficients, one tuple per stage (row ``i`` has ``i`` entries).
        b: the weights of the stages.
        c: the stages' fractional times.
        order: the order ``p``.

    Example:
        >>> import amaml
        >>> [(type(s).__name__, s.order, s.num_stages) for s in (amaml.Euler(), amaml.Heun(), amaml.RK4())]
        [('Euler', 1, 1), ('Heun', 2, 2), ('RK4', 4, 4)]
        >>> isinstance(amaml.RK4(), amaml.AbstractSolver), amaml.RK4().needs_dense_output
        (True, True)
    """

    a: ClassVar[tuple[tuple[float, ...], ...]]
    b: ClassVar[tuple[float, ...]]
    c: ClassVar[tuple[float, ...]]
    order: ClassVar[int]

    @property
    def num_stages(self) -> int:
        """Number of vector-field evaluations per step."""
        return len(self.b)

    @property
    def needs_dense_output(self) -> bool:
        """True when a stage lies strictly between grid points (``0 < c_i < 1``)."""
        return any(0.0 < ci < 1.0 for ci in self.c)

    def step(self, field: StageField, y: State, h: float) -> tuple[State, State]:
        """Advance ``y`` by one step of size ``h``.

        Args:
            field: ``field(c_i, Y_i)``, the vector field at stage fraction ``c_i``.
            y: the state at the start of the step (any pytree).
            h: the step size (negative steps are not used; reversed time is the caller's).

        Returns:
            ``(y_next, k_1)`` where ``k_1 = field(0, y)`` is the vector field at the start,
            returned so that callers can store it (dense output) without recomputing.
        """
        ks: list[State] = []
        for ci, ai in zip(self.c, self.a):
            ks.append(field(ci, _combine(y, h, ai, ks)))
        return _combine(y, h, self.b, ks), ks[0]

    def step_transpose(
        self,
        field: StageField,
        jacobian_transpose: Callable[[State, State], State],
        y: State,
        cotangent: State,
        h: float,
    ) -> tuple[State, State]:
        r"""The exact reverse-mode derivative (VJP) of :meth:`step` with respect to ``y``.

        With :math:`\bar y_{n+1}` the cotangent of the step's output and
        :math:`J_i = \partial f / \partial y` at stage :math:`Y_i`, the stage cotangents are
        computed from the last stage to the first:

        .. math::
            \kappa_i = h b_i \bar y_{n+1} + h \sum_{m>i} a_{mi} J_m^\top \kappa_m, \qquad
            \bar y_n = \bar y_{n+1} + \sum_i J_i^\top \kappa_i .

        The stage states are recomputed from ``y`` (``s - 1`` field evaluations), and
        ``s`` Jacobian-transpose products are taken. No graph of the step is kept.

        Args:
            field: the autonomous vector field ``field(c_i, Y)`` used by :meth:`step`.
            jacobian_transpose: ``(Y, v) -> J(Y)^T v``.
            y: the state the step started from.
            cotangent: the cotangent of the step's output.
            h: the step size.

        Returns:
            ``(cotangent of y, sum_i kappa_i)``; the second term is what a parameter that
            enters the vector field additively (e.g. a proximal centre) needs.
        """
        return self.step_vjp(field, lambda stage, kappa: (jacobian_transpose(stage, kappa), kappa), y, cotangent, h)

    def step_vjp(
        self,
        field: StageField,
        field_vjp: Callable[[State, State], tuple[State, Any]],
        y: State,
        cotangent: State,
        h: float,
    ) -> tuple[State, Any]:
        r"""The VJP of :meth:`step` with respect to ``y`` *and* the field's parameters.

        As :meth:`step_transpose`, with ``field_vjp(Y, kappa) -> (J(Y)^T kappa, p_bar)``
        also returning the cotangent :math:`\bar p = (\partial f/\partial p)^\top\kappa` of
        the field's parameters :math:`p` at each stage; since :math:`\kappa_i` is the
        cotangent of the stage value :math:`k_i = f(Y_i; p)`, the step's parameter cotangent
        is :math:`\sum_i \bar p_i` (exact, no approximation).

        Args:
            field: the vector field ``field(c_i, Y)`` used by :meth:`step`.
            field_vjp: ``(Y, kappa) -> (J(Y)^T kappa, p_bar)``, called once per stage, last stage first.
            y: the state the step started from.
            cotangent: the cotangent of the step's output.
            h: the step size.

        Returns:
            ``(cotangent of y, sum_i p_bar_i)``, the second summed leafwise over the stages.
        """
        stages: list[State] = []
        ks: list[State] = []
        for i, (ci, ai) in enumerate(zip(self.c, self.a)):
            stage = _combine(y, h, ai, ks)
            stages.append(stage)
            if i + 1 < self.num_stages:  # the last stage's value is not needed
                ks.append(field(ci, stage))
        s = self.num_stages
        stage_cotangents: list[State] = [None] * s
        parameter_cotangents: list[Any] = [None] * s
        for i in reversed(range(s)):
            later = [self.a[m][i] for m in range(i + 1, s)]
            kappa = jax.tree_util.tree_map(lambda v: 0.0 * v, cotangent)
            kappa = _combine(kappa, h, (self.b[i], *later), (cotangent, *stage_cotangents[i + 1 :]))
            stage_cotangents[i], parameter_cotangents[i] = field_vjp(stages[i], kappa)
        y_cotangent = _combine(cotangent, 1.0, (1.0,) * s, stage_cotangents)
        parameter_sum = _combine(parameter_cotangents[0], 1.0, (1.0,) * (s - 1), parameter_cotangents[1:])
        return y_cotangent, parameter_sum

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))
