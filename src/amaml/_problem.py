"""A loss and meta-parameters as the methods see them, one task at a time (private).

:class:`Problem` turns a loss and a :class:`~amaml.MetaParams` into one task's flat view
(:class:`amaml._flow.FlatMeta`) and pulls the methods' flat cotangents back to the caller's
structure; with a :class:`~amaml.FeatureLoss` that pull-back is the body's one VJP per task.
:func:`prepare` checks the meta-parameters first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, PyTree

from ._flow import FlatLoss, FlatMeta
from ._meta import FeatureLoss, MetaParams
from ._methods import AbstractMetaMethod
from ._params import check_array_leaves, flatten


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
    rate_tree = jax.tree_util.tree_structure(rates)
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

    def value_and_grad(self, method: AbstractMetaMethod, meta: MetaParams, task, tasks: int = 1) -> tuple[Array, Array]:
        """One task's meta-loss and its gradient as one flat vector (the layout of :meth:`unravel_grad`),
        in a meta-batch of ``tasks`` tasks."""
        loss, flat, pullback = self.view(meta, task.support_x, task.query_x)
        value, grads = method.value_and_meta_grad(loss, flat, task, tasks)
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
