r"""Meta-parameters inside the inner loop: the public containers and their flat per-task view.

:class:`MetaParams` holds what the meta-learner learns: the initialisation, and optionally
shared parameters the inner loop holds fixed, elementwise rates and a horizon. The inner
flow of a task is

.. math::
    u' = f(u; \phi, r) = -r \odot \nabla_u L_\mathrm{in}(u; \phi), \qquad u(0) = \theta,
    \qquad t \in [0, T],

and every method's gradient of the meta-loss comes back as a :class:`MetaParams` with the
same fields set. :class:`Problem` (private) turns a loss and a :class:`MetaParams` into what
the methods see for one task (:class:`amaml._flow.FlatMeta`) and pulls the methods' flat
cotangents back to the caller's structure; with a :class:`FeatureLoss` that pull-back is the
body's one VJP per task.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Float, PyTree

from ._flow import FlatLoss, FlatMeta
from ._methods import AbstractMetaMethod
from ._params import check_array_leaves, flatten


class MetaParams(NamedTuple):
    r"""Everything a meta-learner learns about the inner loop; a pytree (optax updates it).

    The inner loop of every method runs the flow
    :math:`u' = -r \odot \nabla_u L(u; \phi)` from :math:`u(0) = \theta` up to :math:`T`
    (``steps`` steps of size ``T / steps``), and its meta-gradient has one entry per field
    set here. Gradients are with respect to the raw values (for ``rates = exp(log_rates)``,
    compose the exponential yourself); sign convention as ``jax.grad``.

    Args:
        init: the initialisation :math:`\theta`, the parameters the inner loop adapts (any
            pytree of floating arrays of one dtype).
        shared: parameters :math:`\phi` the inner loop holds fixed (a shared body, ANIL;
            COMLN), meta-learned; when set, the loss is ``loss_fn(adapted, shared, x, y)``.
            ``None``: none.
        rates: elementwise rates :math:`r > 0` (Meta-SGD): a pytree with the structure of
            ``init`` whose leaves have the leaf's shape (one rate per parameter) or shape
            ``()`` (one rate per leaf, MAML++'s per-layer rates). ``None``: all ones.
        horizon: the horizon :math:`T > 0`, a scalar array (learned, as in COMLN); the
            inner step is then ``T / steps`` and the method's ``step_size`` is not used.
            ``None``: ``T = steps * step_size``.

    Example:
        >>> import jax.numpy as jnp, amaml
        >>> meta = amaml.MetaParams(init={"w": jnp.zeros(3)}, rates={"w": jnp.ones(())},
        ...                         horizon=jnp.asarray(0.5))
        >>> meta.shared is None
        True

    References:
        Raghu et al. 2020 (ANIL); Li et al. 2017 (Meta-SGD); Antoniou et al. 2019 (MAML++);
        Deleu et al. 2022 (COMLN).
    """

    init: PyTree
    shared: PyTree | None = None
    rates: PyTree | None = None
    horizon: Float[Array, ""] | None = None


@dataclasses.dataclass(frozen=True)
class FeatureLoss:
    r"""A loss whose shared parameters act only through a feature map: ANIL's and COMLN's structure.

    ``loss(adapted, shared, x, y) = head(adapted, features(shared, x), y)``. Passed as the
    ``loss_fn`` with :class:`MetaParams` ``shared``, it lets every method compute the body
    once per task per meta-update: the support and query features
    :math:`F = \mathrm{features}(\phi, x)` are computed once, the inner loop adapts the head
    on them, the sweep accumulates the features' cotangent :math:`\bar F` (instead of
    differentiating the body at every step), and one VJP of the body pulls it back:
    :math:`\bar\phi = (\partial F/\partial\phi)^\top \bar F`. The gradient is the same as
    for the plain four-argument loss (to rounding); the body's cost no longer grows with
    the number of inner steps.

    Args:
        features: ``features(shared, x) -> F`` (any pytree of arrays).
        head: ``head(adapted, F, y) -> scalar``.

    Example:
        >>> import jax.numpy as jnp, amaml
        >>> loss = amaml.FeatureLoss(lambda body, x: jnp.tanh(x @ body),
        ...                          lambda head, f, y: jnp.mean((f @ head - y) ** 2))
        >>> float(loss(jnp.ones(2), jnp.zeros((1, 2)), jnp.ones((3, 1)), jnp.zeros(3)))
        0.0
    """

    features: Callable[[PyTree, Array], PyTree]
    head: Callable[[PyTree, PyTree, Array], Float[Array, ""]]

    def __post_init__(self) -> None:
        for name in ("features", "head"):
            if not callable(getattr(self, name)):
                raise TypeError(f"`{name}` must be callable, got {getattr(self, name)!r}.")

    def __call__(self, adapted: PyTree, shared: PyTree, x: Array, y: Array) -> Float[Array, ""]:
        return self.head(adapted, self.features(shared, x), y)


def keep_positive(meta: MetaParams) -> MetaParams:
    """Project rates and horizon onto ``[eps, inf)`` (``eps`` the dtype's machine epsilon).

    A gradient step may push a rate or the horizon through zero, where the inner flow
    would ascend; projected gradient descent keeps them valid and leaves every value
    already above ``eps`` unchanged.
    """

    def floor(leaf):
        return jnp.maximum(leaf, jnp.finfo(leaf.dtype).eps)

    rates = None if meta.rates is None else jax.tree_util.tree_map(floor, meta.rates)
    return meta._replace(rates=rates, horizon=None if meta.horizon is None else floor(meta.horizon))


def _is_concrete(value: Any) -> bool:
    return not isinstance(value, jax.core.Tracer)


def _check_dtype(name: str, tree: PyTree, dtype) -> None:
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        if jnp.result_type(leaf) != dtype:
            where = name + jax.tree_util.keystr(path)
            raise TypeError(
                f"`{where}` has dtype {jnp.result_type(leaf)} but `init` is {dtype}; every field of "
                f"MetaParams must share init's dtype (amaml never casts silently)."
            )


def _check_rates(rates: PyTree, init: PyTree, dtype) -> None:
    init_leaves, init_tree = jax.tree_util.tree_flatten(init)
    rate_leaves, rate_tree = jax.tree_util.tree_flatten(rates)
    if rate_tree != init_tree:
        raise ValueError(
            f"`rates` must have the pytree structure of `init` (one leaf per parameter leaf), got {rate_tree} "
            f"for init {init_tree}."
        )
    check_array_leaves(rates, "rates")
    _check_dtype("rates", rates, dtype)
    for (path, rate), leaf in zip(jax.tree_util.tree_flatten_with_path(rates)[0], init_leaves):
        where = "rates" + jax.tree_util.keystr(path)
        if jnp.shape(rate) not in ((), jnp.shape(leaf)):
            raise ValueError(
                f"`{where}` must have the shape of its init leaf {jnp.shape(leaf)} (a rate per parameter) "
                f"or shape () (one rate for the leaf), got {jnp.shape(rate)}."
            )
        if _is_concrete(rate) and not np.all(np.asarray(rate) > 0):
            raise ValueError(f"`{where}` must be positive (the inner flow must descend), got min {np.min(rate)}.")


def _check_horizon(horizon, dtype) -> None:
    check_array_leaves(horizon, "horizon")
    if jnp.shape(horizon) != ():
        raise ValueError(f"`horizon` must be a scalar array T > 0, got shape {jnp.shape(horizon)}.")
    _check_dtype("horizon", horizon, dtype)
    if _is_concrete(horizon) and not (np.isfinite(horizon) and float(horizon) > 0):
        raise ValueError(f"`horizon` must be a positive finite scalar T, got {float(horizon)}.")


def _check_shared(shared: PyTree, dtype) -> None:
    check_array_leaves(shared, "shared")
    if not jax.tree_util.tree_leaves(shared):
        raise ValueError("`shared` must contain at least one array, or be None.")
    _check_dtype("shared", shared, dtype)


def _check_method_fields(method: AbstractMetaMethod, meta: MetaParams) -> None:
    for field in ("shared", "rates", "horizon"):
        if getattr(meta, field) is not None and field not in method.learnable:
            raise ValueError(
                f"`params.{field}` is set, but {type(method).__name__} gives no gradient for MetaParams.{field} "
                f"(it learns: {', '.join(sorted(method.learnable)) or 'init only'}; see its docstring for why). "
                f"AdjointMAML, DiscreteAdjoint and MAML learn every field; FOMAML has a first-order version of each."
            )


@dataclasses.dataclass(frozen=True)
class Problem:
    """A loss and the structure of its meta-parameters (private; see the module docstring).

    ``plain`` says the caller passed a bare pytree (results are returned bare too).
    """

    loss_fn: Callable
    unravel: Callable[[Array], PyTree]
    plain: bool

    @property
    def feature(self) -> bool:
        return isinstance(self.loss_fn, FeatureLoss)

    def view(
        self, meta: MetaParams, support_x: Array, query_x: Array | None
    ) -> tuple[FlatLoss, FlatMeta, Callable[[FlatMeta], MetaParams]]:
        """One task's flat loss and meta-parameters, and the pull-back of a flat cotangent.

        With a :class:`FeatureLoss` the body runs here, once for the support set (and once
        for the query set when ``query_x`` is given), under ``jax.vjp``.
        """
        theta, _ = ravel_pytree(meta.init)
        rates = expand = None
        if meta.rates is not None:
            shapes = [jnp.shape(leaf) for leaf in jax.tree_util.tree_leaves(meta.init)]

            def broadcast(tree):
                leaves = jax.tree_util.tree_leaves(tree)
                return jnp.concatenate([jnp.ravel(jnp.broadcast_to(r, s)) for r, s in zip(leaves, shapes)])

            rates, expand = jax.vjp(broadcast, meta.rates)
        pull_in = pull_out = None
        if meta.shared is None:
            context_in = context_out = None

            def loss(u, x, y):
                return self.loss_fn(self.unravel(u), x, y)

        elif self.feature:
            features = self.loss_fn.features
            context_in, pull_in = jax.vjp(lambda shared: features(shared, support_x), meta.shared)
            context_out = None
            if query_x is not None:
                context_out, pull_out = jax.vjp(lambda shared: features(shared, query_x), meta.shared)

            def loss(u, c, x, y):
                return self.loss_fn.head(self.unravel(u), c, y)

        else:
            context_in = context_out = meta.shared

            def loss(u, c, x, y):
                return self.loss_fn(self.unravel(u), c, x, y)

        def pullback(grads: FlatMeta) -> MetaParams:
            shared = None
            if meta.shared is not None:
                inner, outer = grads.context_in, grads.context_out
                if self.feature:  # the body's one VJP per set
                    inner, outer = pull_in(inner)[0], pull_out(outer)[0]
                shared = jax.tree_util.tree_map(jnp.add, inner, outer)
            rates_grad = None if expand is None else expand(grads.rates)[0]
            return MetaParams(self.unravel(grads.theta), shared, rates_grad, grads.horizon)

        return loss, FlatMeta(theta, rates, meta.horizon, context_in, context_out), pullback

    def value_and_grad(self, method: AbstractMetaMethod, meta: MetaParams, task) -> tuple[Array, Array]:
        """One task's meta-loss and its gradient as one flat vector (the layout of :meth:`unravel_grad`)."""
        loss, flat, pullback = self.view(meta, task.support_x, task.query_x)
        value, grads = method.value_and_meta_grad(loss, flat, task)
        if meta.shared is None and meta.rates is None and meta.horizon is None:
            return value, grads.theta  # the layout of init alone; no round trip
        return value, ravel_pytree(pullback(grads))[0]

    def value(self, method: AbstractMetaMethod, meta: MetaParams, task) -> Array:
        """One task's meta-loss (no gradient)."""
        loss, flat, _ = self.view(meta, task.support_x, task.query_x)
        return method.value(loss, flat, task)

    def adapt(self, method: AbstractMetaMethod, meta: MetaParams, support_x: Array, support_y: Array) -> PyTree:
        """The adapted ``init`` pytree of one task."""
        loss, flat, _ = self.view(meta, support_x, None)
        return self.unravel(method.adapt(loss, flat, support_x, support_y))

    def unravel_grad(self, meta: MetaParams) -> Callable[[Array], PyTree]:
        """Flat gradient -> the caller's structure (a bare pytree when the caller passed one)."""
        _, unravel = ravel_pytree(meta)
        return (lambda flat: unravel(flat).init) if self.plain else unravel


def prepare(
    loss_fn: Callable, params: PyTree | MetaParams, method: AbstractMetaMethod | None = None
) -> tuple[Problem, MetaParams, Any]:
    """Check the meta-parameters (and that ``method`` learns their fields); returns
    ``(problem, meta, dtype)`` with a bare pytree wrapped as ``MetaParams(init=params)``.

    Raises:
        TypeError, ValueError: naming the field and what was expected, before any work.
    """
    plain = not isinstance(params, MetaParams)
    meta = MetaParams(params) if plain else params
    if not callable(loss_fn):
        raise TypeError(f"`loss_fn` must be callable, got {loss_fn!r}.")
    theta, unravel = flatten(meta.init, "params" if plain else "params.init")
    dtype = theta.dtype
    if meta.shared is not None:
        _check_shared(meta.shared, dtype)
    elif isinstance(loss_fn, FeatureLoss):
        raise ValueError("`loss_fn` is an amaml.FeatureLoss, whose body needs parameters: set MetaParams.shared.")
    if meta.rates is not None:
        _check_rates(meta.rates, meta.init, dtype)
    if meta.horizon is not None:
        _check_horizon(meta.horizon, dtype)
    if method is not None:
        _check_method_fields(method, meta)
    return Problem(loss_fn, unravel, plain), meta, dtype
