from typing import final

from ._base import AbstractSolver


@final
class Heun(AbstractSolver):
    r"""Heun's method (explicit trapezoidal rule), second order.

    :math:`\tilde y = y_n + h f(t_n, y_n)`,
    :math:`y_{n+1} = y_n + \tfrac h2 [f(t_n, y_n) + f(t_{n+1}, \tilde y)]`.
    Both stages sit on grid points, so a backward Heun sweep needs no interpolation.
    Two field evaluations per step.

    Example:
        One step of :math:`y' = -y` from :math:`y = 1` with :math:`h = 0.1` gives
        :math:`1 - h + h^2/2`:

        >>> import jax.numpy as jnp, amaml
        >>> y, _ = amaml.Heun().step(lambda c, y: -y, jnp.ones(2), 0.1)
        >>> round(float(y[0]), 4)
        0.905
    """

    a = ((), (1.0,))
    b = (0.5, 0.5)
    c = (0.0, 1.0)
    order = 2
