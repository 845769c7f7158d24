from typing import final

from ._base import AbstractSolver


@final
class RK4(AbstractSolver):
    r"""The classic fourth-order Runge--Kutta method.

    Tableau ``c = (0, 1/2, 1/2, 1)``, ``b = (1/6, 1/3, 1/3, 1/6)``. Four field evaluations
    per step. Used backward in time, its mid-step stages need the forward state between
    grid points; :mod:`amaml` takes it from a cubic Hermite interpolant of the stored states
    and vector-field values (error :math:`O(h^4)`, preserving fourth order), never by
    integrating the gradient flow backwards. (The authors' reference code uses the 3/8
    rule; both are fourth order.)

    Example:
        One step of :math:`y' = -y` from :math:`y = 1` with :math:`h = 0.1` matches
        :math:`e^{-0.1} = 0.904837\ldots` to :math:`O(h^5)`:

        >>> import jax.numpy as jnp, amaml
        >>> y, _ = amaml.RK4().step(lambda c, y: -y, jnp.ones(2), 0.1)
        >>> round(float(y[0]), 5)
        0.90484
    """

    a = ((), (0.5,), (0.0, 0.5), (0.0, 0.0, 1.0))
    b = (1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0)
    c = (0.0, 0.5, 0.5, 1.0)
    order = 4
