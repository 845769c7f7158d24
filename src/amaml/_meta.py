r"""Meta-parameters inside the inner loop: the public containers and their flat per-task view.

:class:`MetaParams` holds what the meta-learner learns: the initialisation, and optionally
shared parameters the inner loop holds fixed, elementwise rates and a horizon. The inner
flow of a task is

.. math::
    u' = f(u; \phi, r) = -r \odot \nabla_u L_\mathrm{in}(u; \phi), \qquad u(0) = \theta,
    \qquad t \in [0, T],

and every method's gradient of the meta-loss comes back as a :class:`MetaParams` with the
same fields set. :mod:`amaml._problem` turns a loss and a :class:`MetaParams` into what the
methods see for one task and pulls their cotangents back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PyTree


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

    References:
        Raghu et al., "Rapid Learning or Feature Reuse?", ICLR 2020 (ANIL); Deleu et al.,
        "Continuous-Time Meta-Learning with Forward Mode Differentiation", ICLR 2022 (COMLN).
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
