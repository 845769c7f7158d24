from typing import final

from ._base import AbstractSolver


@final
class Euler(AbstractSolver):
    r"""Explicit Euler, first order: :math:`y_{n+1} = y_n + h f(y_n)`.

    On the gradient flow :math:`u' = -\nabla L(u)` one Euler step *is* one step of
    gradient descent with learning rate ``h``; this is why MAML's inner loop is the Euler
    discretisation of A-MAML's forward ODE. One field evaluation per step.

    Example:
        One step of :math:`y' = -y` from :math:`y = 1` with :math:`h = 0.1`:

        >>> import jax.numpy as jnp, amaml
        >>> y, k = amaml.Euler().step(lambda c, y: -y, jnp.ones(2), 0.1)
        >>> round(float(y[0]), 4), round(float(k[0]), 4)  # 1 - h, and f(y_0)
        (0.9, -1.0)
    """

    a = ((),)
    b = (1.0,)
    c = (0.0,)
    order = 1
