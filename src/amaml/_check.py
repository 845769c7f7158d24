"""A user-facing check of a method's meta-gradient."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from . import _validate
from ._api import METHODS
from ._meta import MetaParams
from ._methods import FOMAML, IMAML, MAML, AbstractMetaMethod, AdjointMAML, DiscreteAdjoint, Reptile
from ._problem import prepare
from ._solvers import RK4
from ._task import Task, check_tasks


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
        noise_floor: the estimated relative error of the finite differences themselves,
            :math:`\sqrt{n}\,\text{eps}\,|J| / (\epsilon \lVert d\rVert) + \epsilon^2`
            (rounding of the ``n`` pairs of meta-loss evaluations, plus truncation), with
            ``eps`` the dtype's machine epsilon. A ``finite_difference_error`` at or below it
            cannot be told from zero: the check cannot resolve the method's error.
        verdict: one line: what the measurements say the gradient is.
        field_errors: for a :class:`MetaParams`, the finite-difference error of each field
            set (``"init"``, ``"shared"``, ``"rates"``, ``"horizon"``), measured along
            ``directions`` random directions inside that field; ``None`` for a plain pytree.

    Example:
        Made by :func:`check_meta_grad` (see there); ``str()`` is the report:

        >>> import numpy as np, amaml
        >>> check = amaml.MetaGradCheck(amaml.MAML(1, 0.1), np.zeros(3), 1e-9, None, 8, 6e-6, 1e-8, "exact")
        >>> print(str(check).splitlines()[-1])
        verdict: exact
    """

    method: AbstractMetaMethod
    grad: np.ndarray
    finite_difference_error: float
    reference_error: float | None
    directions: int
    epsilon: float
    noise_floor: float
    verdict: str
    field_errors: dict[str, float] | None = None

    def __str__(self) -> str:
        ref = "n/a" if self.reference_error is None else f"{self.reference_error:.3e}"
        fields = "".join(
            f"    {name}: relative error {error:.3e}\n" for name, error in (self.field_errors or {}).items()
        )
        return (
            f"{self.method!r}\n"
            f"  vs central differences of its own meta-loss ({self.directions} directions, "
            f"eps={self.epsilon:.1e}): relative error {self.finite_difference_error:.3e} "
            f"(noise floor ~{self.noise_floor:.1e})\n"
            f"{fields}"
            f"  vs fine exact adjoint of the continuous objective: relative error {ref}\n"
            f"verdict: {self.verdict}"
        )


def verdict(method: AbstractMetaMethod, fd_error: float, ref_error: float | None, floor: float, dtype) -> str:
    """The one-line reading of a check (see :class:`MetaGradCheck`)."""
    exact = isinstance(method, (MAML, DiscreteAdjoint))
    precise = jnp.finfo(dtype).eps <= jnp.finfo(jnp.float64).eps
    percent = lambda error: f"{100 * error:.3g}%"
    if fd_error <= floor:
        if exact:
            text = f"exact: agrees with finite differences of its own meta-loss, to their noise floor (~{floor:.1e})"
            return text if precise else text + f"; {jnp.dtype(dtype).name} cannot resolve smaller errors (use float64)"
        if precise:
            return (
                "indistinguishable from exact here: its error is at or below the finite-difference "
                f"noise floor ~{floor:.1e}"
            )
        return (
            f"{jnp.dtype(dtype).name} finite differences cannot resolve this method's error (measured "
            f"{fd_error:.1e} <= noise floor ~{floor:.1e}); rerun the check in float64"
        )
    if exact:
        if fd_error <= max(10 * floor, float(jnp.finfo(dtype).eps) ** 0.5):
            return "exact: agrees with finite differences of its own meta-loss"
        return (
            f"NOT exact: {percent(fd_error)} from finite differences of its own meta-loss, far above their "
            f"noise floor ~{floor:.1e} (unexpected for this method)"
        )
    if isinstance(method, AdjointMAML):
        order = min(method.forward.order, method.backward.order)
        ref = "" if ref_error is None else f", {percent(ref_error)} from the fine reference"
        return f"O(h^{order}) approximation of the continuous gradient{ref}; not the gradient of its own forward"
    if isinstance(method, (FOMAML, Reptile)):
        return f"first-order surrogate: not the gradient of its meta-loss ({percent(fd_error)} off), by design"
    if isinstance(method, IMAML):
        return (
            f"implicit-gradient approximation: {percent(fd_error)} from finite differences of its meta-loss "
            f"(exact only for a converged inner problem and cg_steps >= P)"
        )
    return f"{percent(fd_error)} from finite differences of its own meta-loss"


def reference_method(method: AbstractMetaMethod, refine: int) -> DiscreteAdjoint | None:
    """The exact discrete adjoint of a refined RK4 solve of the method's gradient flow."""
    if method.inner_prox != method.meta_prox:
        return None
    return DiscreteAdjoint(
        method.steps * refine,
        method.step_size / refine,
        forward=RK4(),
        prox=method.inner_prox,
        unroll=method.unroll,
    )


def check_meta_grad(
    method: AbstractMetaMethod,
    loss_fn: Callable[..., Float[Array, ""]],
    params: PyTree | MetaParams,
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

    With a :class:`MetaParams` the differences run over every field set, ``directions``
    random directions inside each field, and ``field_errors`` reports each field's error
    (rates and a horizon are perturbed by ``epsilon`` too: keep them well above it).

    The report ends with a one-line verdict (exact / :math:`O(h^p)` approximation /
    first-order surrogate), and says when the finite differences cannot resolve the
    method's error: their noise floor (estimated from the dtype's epsilon, ``epsilon``,
    :math:`|J|` and the size of the differences) is about ``1e-4`` in float32, so an
    :math:`O(h^4)` error of ``1e-6`` is invisible there; check in float64.

    Args:
        method, loss_fn, params, tasks: as for :func:`amaml.meta_value_and_grad`.
        directions: (keyword-only) random directions for (a), per field set.
        refine: (keyword-only) refinement factor for (b).
        epsilon: (keyword-only) finite-difference step; default ``eps ** (1/3)`` of the dtype.
        key: (keyword-only) PRNG key for the directions; default ``jax.random.key(0)``.

    Returns:
        A :class:`MetaGradCheck`; ``str()`` of it is a readable report ending in its verdict.

    Raises:
        TypeError, ValueError: for invalid arguments, before any computation.

    Example:
        >>> import jax.numpy as jnp, amaml
        >>> loss = lambda p, x, y: 0.5 * jnp.mean((x @ p - y) ** 2)
        >>> x = jnp.linspace(-1.0, 1.0, 24).reshape(2, 4, 3)  # 2 tasks, 4 examples, 3 features
        >>> tasks = amaml.Task(x, jnp.ones((2, 4)), x, jnp.ones((2, 4)))
        >>> check = amaml.check_meta_grad(amaml.MAML(3, 0.1), loss, jnp.zeros(3), tasks,
        ...                               directions=2, refine=2)
        >>> check.grad.shape, check.verdict.startswith("exact")
        ((3,), True)
        >>> print(check)  # doctest: +ELLIPSIS
        MAML(steps=3, ...)
          vs central differences of its own meta-loss (2 directions, ...
        verdict: exact...
    """
    _validate.instance_of("method", method, AbstractMetaMethod, METHODS)
    _validate.positive_int("directions", directions)
    _validate.positive_int("refine", refine)
    problem, meta, dtype = prepare(loss_fn, params, method)
    count = check_tasks(tasks, dtype)
    if epsilon is None:
        epsilon = float(jnp.finfo(dtype).eps) ** (1 / 3)
    epsilon = _validate.positive_float("epsilon", epsilon)
    key = jax.random.key(0) if key is None else key
    theta, unravel = ravel_pytree(meta)  # every field set, in MetaParams order

    def mean_grad(m, t):
        return jnp.mean(jax.vmap(lambda task: problem.value_and_grad(m, unravel(t), task, count)[1])(tasks), axis=0)

    def mean_value(t):
        return jnp.mean(jax.vmap(lambda task: problem.value(method, unravel(t), task))(tasks))

    grad = jax.jit(lambda t: mean_grad(method, t))(theta)
    # Directions inside each field set (for a plain pytree: the one block of init).
    blocks = {"init": slice(0, theta.size)} if problem.plain else field_blocks(meta)
    keys = [key] if problem.plain else list(jax.random.split(key, len(blocks)))
    basis = jnp.concatenate([direction_block(k, directions, block, theta) for k, block in zip(keys, blocks.values())])
    value = jax.jit(jax.vmap(mean_value))
    differences = (value(theta[None] + epsilon * basis) - value(theta[None] - epsilon * basis)) / (2 * epsilon)
    misfit = basis @ grad - differences
    fd_norm = float(jnp.linalg.norm(differences))
    fd_error = float(jnp.linalg.norm(misfit)) / fd_norm
    field_errors = None
    if not problem.plain:
        rows = [slice(i * directions, (i + 1) * directions) for i in range(len(blocks))]
        field_errors = {
            name: float(jnp.linalg.norm(misfit[row]) / jnp.linalg.norm(differences[row]))
            for name, row in zip(blocks, rows)
        }
    eps = float(jnp.finfo(dtype).eps)
    floor = math.sqrt(basis.shape[0]) * eps * abs(float(mean_value(theta))) / (epsilon * fd_norm) + epsilon**2

    reference = reference_method(method, refine)
    ref_error = None
    if reference is not None:
        ref_grad = jax.jit(lambda t: mean_grad(reference, t))(theta)
        ref_error = float(jnp.linalg.norm(grad - ref_grad) / jnp.linalg.norm(ref_grad))
    return MetaGradCheck(
        method,
        np.asarray(grad),
        fd_error,
        ref_error,
        directions,
        epsilon,
        floor,
        verdict(method, fd_error, ref_error, floor, dtype),
        field_errors,
    )


def field_blocks(meta: MetaParams) -> dict[str, slice]:
    """Where each field set sits in ``ravel_pytree(meta)`` (fields in MetaParams order)."""
    blocks, start = {}, 0
    for name, value in zip(MetaParams._fields, meta):
        size = sum(int(np.size(leaf)) for leaf in jax.tree_util.tree_leaves(value))
        if size:
            blocks[name] = slice(start, start + size)
        start += size
    return blocks


def direction_block(key: PRNGKeyArray, count: int, block: slice, theta: Array) -> Array:
    """``count`` random unit directions supported on ``block`` of the flat vector."""
    rows = jax.random.normal(key, (count, block.stop - block.start), theta.dtype)
    rows = rows / jnp.linalg.norm(rows, axis=1, keepdims=True)
    return jnp.zeros((count, theta.size), theta.dtype).at[:, block].set(rows)
