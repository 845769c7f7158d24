from typing import final

from ._base import AbstractSolver


@final
class Heun(AbstractSolver):
    r"""Heun's method (explicit trapezoidal rule), second order.

    :math:`\tilde y = y_n + h f(t_n, y_n)`,
    :math:`y_{n+1} = y_n + \tfrac h2 [f(t_n, y_n) + f(t_{n+1}, \tilde y)]`.
    Both stages sit on grid points, so a backward Heun sweep needs no interpolation.
    Two field evaluations per step.
    """

    a = ((), (1.0,))
    b = (0.5, 0.5)
    c = (0.0, 1.0)
    order = 2
