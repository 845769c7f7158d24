r"""The comparison with a general ODE library: MAML's meta-gradient through ``diffrax.diffeqsolve``.

diffrax (Kidger, 2021) differentiates an ODE solve by reverse-mode autodiff through the
solver's steps, with its own recursive checkpointing (``RecursiveCheckpointAdjoint``,
"discretise then optimise"). On the same fixed grid and the same Runge--Kutta tableau that
is the exact gradient of the computed inner solution, so :class:`DiffraxDiscretise` must
agree with :class:`amaml.DiscreteAdjoint` to rounding; what differs is the cost. Needs the
optional ``bench-diffrax`` extra (``pip install -e '.[bench-diffrax]'``).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import ClassVar, Literal, final

import jax
import jax.numpy as jnp
import numpy as np

from .. import _validate
from .._fields import option
from .._flow import FlatLoss, FlatMeta, meta_objective
from .._methods._base import ALL_FIELDS, SOLVERS, AbstractMetaMethod, step_size_option, steps_option
from .._solvers import RK4, AbstractSolver, Euler, Heun
from .._task import Task


def require_diffrax() -> None:
    """Raise one clear error when diffrax is not installed.

    Raises:
        ValueError: without diffrax.
    """
    try:
        import diffrax  # noqa: F401
    except ImportError:
        raise ValueError("the diffrax comparison needs diffrax: pip install -e '.[bench-diffrax]'.") from None


@functools.cache
def diffrax_solver(solver: AbstractSolver):
    """diffrax's solver for one of amaml's: its own ``Euler`` and ``Heun``; classic RK4 from amaml's tableau.

    diffrax ships no classic RK4, so it is an ``AbstractERK`` with :class:`amaml.RK4`'s own
    Butcher tableau (the same ``a``, ``b``, ``c``), and the forward passes of both libraries
    are the same scheme.
    """
    import diffrax

    if isinstance(solver, Euler):
        return diffrax.Euler()
    if isinstance(solver, Heun):
        return diffrax.Heun()
    butcher = diffrax.ButcherTableau(
        a_lower=tuple(np.array(row) for row in solver.a[1:]),
        b_sol=np.array(solver.b),
        b_error=np.zeros(len(solver.b)),  # fixed steps: no error estimate is used
        c=np.array(solver.c[1:]),
    )
    order = solver.order

    class ClassicRK4(diffrax.AbstractERK):  # the tableau must be set at class creation (term_structure)
        tableau: ClassVar[diffrax.ButcherTableau] = butcher
        interpolation_cls: ClassVar = diffrax.ThirdOrderHermitePolynomialInterpolation.from_k

        def order(self, terms):
            return order

    return ClassicRK4()


@final
@dataclasses.dataclass(frozen=True)
class DiffraxDiscretise(AbstractMetaMethod):
    r"""The meta-gradient by ``jax.grad`` through ``diffrax.diffeqsolve`` on amaml's fixed grid.

    Forward: ``steps`` steps of size ``h`` (``diffrax.StepTo`` on :math:`t_j = j h`) of
    ``forward`` on :math:`u' = -r \odot \nabla_u L_\mathrm{tr}(u; \phi)`,
    :math:`u(0) = \theta`; meta-loss :math:`J = L_\mathrm{val}(u_K)`. Gradient: reverse-mode
    autodiff through the solver's steps with ``diffrax.RecursiveCheckpointAdjoint``, i.e. the
    exact gradient of the discrete solution, equal to :class:`amaml.DiscreteAdjoint`'s (and,
    with ``Euler()``, to MAML's) to rounding. Every :class:`amaml.MetaParams` field is
    differentiated, as autodiff sees them all.

    Args:
        steps: number of inner steps ``K``.
        step_size: inner step ``h``.
        forward: (keyword-only) ``Euler()`` (default), ``Heun()`` or ``RK4()``.
        checkpoints: (keyword-only) the states diffrax keeps: ``None`` (default) all ``K``
            (``RecursiveCheckpointAdjoint(checkpoints=K)``), an integer ``c``, or ``"auto"``
            for diffrax's own default (about :math:`\sqrt{2K}`, recomputing the rest).

    Raises:
        ValueError, TypeError: for a non-positive ``steps`` or ``step_size``, an unknown
            solver or bad ``checkpoints``.

    Example:
        >>> method = DiffraxDiscretise(50, 0.01, forward=amaml.RK4(), checkpoints="auto")  # doctest: +SKIP

    References:
        Kidger, "On Neural Differential Equations", 2021 (diffrax); Stumm and Walther, SIAM
        J. Sci. Comput. 2010 (the online checkpointing diffrax uses).
    """

    steps: int = steps_option()
    step_size: float = step_size_option()
    forward: AbstractSolver = option(Euler(), doc="the inner scheme: Euler(), Heun() or RK4()")
    checkpoints: int | None | Literal["auto"] = option(
        None, doc='None: all K states; an integer c; "auto": diffrax\'s default (about sqrt(2K))'
    )
    unroll: ClassVar[None] = None
    inner_prox: ClassVar[float] = 0.0
    meta_prox: ClassVar[float] = 0.0
    learnable: ClassVar[frozenset[str]] = ALL_FIELDS

    def __post_init__(self) -> None:
        self._check_common()
        _validate.instance_of("forward", self.forward, (Euler, Heun, RK4), SOLVERS)
        _validate.checkpoints("checkpoints", self.checkpoints)
        require_diffrax()

    @property
    def inner_solver(self) -> AbstractSolver:
        """The forward scheme."""
        return self.forward

    @property
    def description(self) -> str:
        """What diffrax keeps of the trajectory, in words (for a benchmark report)."""
        if self.checkpoints == "auto":
            return "diffrax RecursiveCheckpointAdjoint(), its default count of checkpoints"
        kept = self.steps if self.checkpoints is None else self.checkpoints
        return f"diffrax RecursiveCheckpointAdjoint(checkpoints={kept})"

    def value_and_meta_grad(self, loss: FlatLoss, meta: FlatMeta, task: Task, tasks: int = 1):
        return jax.value_and_grad(self._objective, argnums=1)(loss, meta, task)

    def _objective(self, loss: FlatLoss, meta: FlatMeta, task: Task):
        import diffrax

        flow = self.flow(loss, meta, task.support_x, task.support_y)
        times = jnp.arange(self.steps + 1, dtype=meta.theta.dtype) * self.inner_step(meta)
        kept = {None: self.steps, "auto": None}.get(self.checkpoints, self.checkpoints)
        solution = diffrax.diffeqsolve(
            diffrax.ODETerm(lambda t, u, args: flow.vector_field(u)),
            diffrax_solver(self.forward),
            t0=times[0],
            t1=times[-1],
            dt0=None,
            y0=meta.theta,
            saveat=diffrax.SaveAt(t1=True),
            stepsize_controller=diffrax.StepTo(ts=times),
            adjoint=diffrax.RecursiveCheckpointAdjoint(checkpoints=kept),
            max_steps=self.steps,
        )
        u_final = solution.ys[-1]
        return meta_objective(loss, task.query_x, task.query_y, 0.0)(u_final, meta.theta, meta.context_out)
