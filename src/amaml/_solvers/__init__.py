"""Explicit Runge--Kutta solvers for the inner gradient flow and the adjoint sweep."""

from ._base import AbstractSolver as AbstractSolver
from .euler import Euler as Euler
from .heun import Heun as Heun
from .rk4 import RK4 as RK4
