"""A user-facing check of a method's meta-gradient."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from . import _validate
from ._methods import AbstractMetaMethod, DiscreteAdjoint
from ._params import flat_loss, flatten
from ._solvers import RK4
from ._task import Task, check_tasks
from ._api import METHODS


@dataclasses.dataclass(frozen=True)
class MetaGradCheck:
    r"""The result of :func:`check_meta_grad`.

    Attributes:
        method: the method checked.
        grad: its mean meta-gradient, flat, shape ``(P,)``.
        finite_difference_error: :math:`\lVert D g - d\rVert / \lVert d \rVert` over the
            random unit directions :math:`D` (rows), :math:`d` the central differences of
            the method's own forward meta-loss. Near 0 means ``grad`` is the gradient of
            what the method computes forward.
        reference_error: :math:`\lVert g - g_\mathrm{ref}\rVert / \lVert g_\mathrm{ref}\rVert`
            with :math:`g_\mathrm{ref}` the exact discrete adjoint of an RK4 solve with
            ``refine`` times more steps of ``1/refine`` the size: the gradient of the
            continuous objective to :math:`O((h/r)^4)`. ``None`` when the method has no
            trajectory objective (IMAML's proximal term is in its inner loss only).
        directions: number of random directions used for the finite differences.
        epsilon: the finite-difference step.
    """

    method: AbstractMetaMethod
    grad: np.ndarray
    finite_difference_error: float
    reference_error: float | None
    directions: int
    epsilon: float

    def __str__(self) -> str:
        ref = "n/a" if self.reference_error is None else f"{self.reference_error:.3e}"
        return (
            f"{self.method!r}\n"
            f"  vs central differences of its own meta-loss ({self.directions} directions, "
            f"eps={self.epsilon:.1e}): relative error {self.finite_difference_error:.3e}\n"
            f"  vs fine exact adjoint of the continuous objective: relative error {ref}"
        )


def reference_method(method: AbstractMetaMethod, refine: int) -> DiscreteAdjoint | None:
    """The exact discrete adjoint of a refined RK4 solve of the method's gradient flow."""
    if method.inner_prox != method.meta_prox:
        return None
    return DiscreteAdjoint(
        method.steps * refine, method.step_size / refine, forward=RK4(), prox=method.inner_prox,
        unroll=method.unroll,
    )


def check_meta_grad(
    method: AbstractMetaMethod,
    loss_fn: Callable[[PyTree, Array, Array], Float[Array, ""]],
    params: PyTree,
    tasks: Task,
    *,
    directions: int = 8,
    refine: int = 8,
    epsilon: float | None = None,
    key: PRNGKeyArray | None = None,
) -> MetaGradCheck:
    r"""Measure a method's meta-gradient against two independent references.

    (a) Central finite differences
    :math:`(J(\theta + \epsilon v) - J(\theta - \epsilon v)) / 2\epsilon` of the method's
    own forward meta-loss along ``directions`` random unit vectors :math:`v` (error
    :math:`O(\epsilon^2)` plus rounding :math:`O(\text{eps}/\epsilon)`);
    (b) the exact discrete adjoint of an RK4 solve with ``refine`` times finer steps over
    the same horizon.

    The exact methods (:class:`MAML`, :class:`DiscreteAdjoint`) agree with (a) to
    finite-difference accuracy; :class:`AdjointMAML` agrees with (b) to :math:`O(h^p)` and
    with (a) only to :math:`O(h^p)`; the first-order methods agree with neither, by design.

    Args:
        method, loss_fn, params, tasks: as for :func:`amaml.meta_value_and_grad`.
        directions: random directions for (a).
        refine: refinement factor for (b).
        epsilon: finite-difference step; default ``eps ** (1/3)`` of the dtype.
        key: PRNG key for the directions; default ``jax.random.key(0)``.

    Returns:
        A :class:`MetaGradCheck`; ``str()`` of it is a readable report.
    """
    _validate.instance_of("method", method, AbstractMetaMethod, METHODS)
    _validate.positive_int("directions", directions)
    _validate.positive_int("refine", refine)
    theta, unravel = flatten(params)
    check_tasks(tasks, theta.dtype)
    if epsilon is None:
        epsilon = float(jnp.finfo(theta.dtype).eps) ** (1 / 3)
    epsilon = _validate.positive_float("epsilon", epsilon)
    key = jax.random.key(0) if key is None else key
    loss = flat_loss(loss_fn, unravel)

    def mean_grad(m, t):
        return jnp.mean(jax.vmap(lambda task: m.value_and_grad(loss, t, task)[1])(tasks), axis=0)

    def mean_value(t):
        return jnp.mean(jax.vmap(lambda task: method.value(loss, t, task))(tasks))

    grad = jax.jit(lambda t: mean_grad(method, t))(theta)
    basis = jax.random.normal(key, (directions, theta.size), theta.dtype)
    basis = basis / jnp.linalg.norm(basis, axis=1, keepdims=True)
    value = jax.jit(jax.vmap(mean_value))
    differences = (value(theta[None] + epsilon * basis) - value(theta[None] - epsilon * basis)) / (2 * epsilon)
    fd_error = float(jnp.linalg.norm(basis @ grad - differences) / jnp.linalg.norm(differences))

    reference = reference_method(method, refine)
    ref_error = None
    if reference is not None:
        ref_grad = jax.jit(lambda t: mean_grad(reference, t))(theta)
        ref_error = float(jnp.linalg.norm(grad - ref_grad) / jnp.linalg.norm(ref_grad))
    return MetaGradCheck(method, np.asarray(grad), fd_error, ref_error, directions, epsilon)
