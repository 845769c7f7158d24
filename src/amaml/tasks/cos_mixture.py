"""The CosMixture family of the A-MAML paper."""

from __future__ import annotations

import dataclasses
from typing import final

import jax
import jax.numpy as jnp
from jax.typing import DTypeLike
from jaxtyping import Array, Float, PRNGKeyArray

from .._fields import option
from ._base import AbstractTaskFamily


@final
@dataclasses.dataclass(frozen=True)
class CosMixture(AbstractTaskFamily):
    r""":math:`f(x) = -0.1 \sum_{i=1}^d A \cos(\omega x_i + \varphi) - \sum_{i=1}^d x_i^2`.

    :math:`A \sim U[0.1, 1]`, :math:`\omega \sim U[\pi/2, 2\pi]`, :math:`\varphi \sim U[3, 6]`
    (one of each per function, shared by the coordinates), :math:`x \in [-1, 1]^d`
    (Li et al., 2023, section 5.1; the paper's figures use ``dim = 2``).

    Args:
        dim: the input dimension :math:`d` (default 2).
        dtype: the floating dtype of the inputs and targets (default float32).

    Example:
        >>> import jax, jax.numpy as jnp, amaml
        >>> family = amaml.tasks.CosMixture(2)
        >>> family.domain
        (-1.0, 1.0)
        >>> x = jnp.zeros((1, 2), jnp.float32)  # f(0) = -0.2 A cos(phase)
        >>> round(float(family.evaluate(jnp.array([1.0, 2.0, 3.0], jnp.float32), x)[0, 0]), 3)
        0.198
        >>> family.sample_parameters(jax.random.key(0), 4).shape  # 4 functions: (A, omega, phase) each
        (4, 3)
    """

    dim: int = option(2, doc="input dimension d of the functions", kw_only=False)
    dtype: DTypeLike = jnp.float32

    @property
    def domain(self) -> tuple[float, float]:
        return (-1.0, 1.0)

    def sample_parameters(self, key: PRNGKeyArray, count: int) -> Float[Array, "count 3"]:
        r"""Draw ``count`` functions' :math:`(A, \omega, \varphi)`, independent and uniform (see the class).

        Args:
            key: the PRNG key of the draw.
            count: the number of functions.

        Returns:
            One row ``(A, omega, phase)`` per function, ``(count, 3)``.
        """
        low = jnp.array([0.1, 0.5 * jnp.pi, 3.0], self.dtype)
        high = jnp.array([1.0, 2.0 * jnp.pi, 6.0], self.dtype)
        return jax.random.uniform(key, (count, 3), self.dtype, low[None, :], high[None, :])

    def evaluate(self, parameters: Float[Array, " 3"], x: Float[Array, "n d"]) -> Float[Array, "n 1"]:
        amplitude, frequency, phase = parameters[0], parameters[1], parameters[2]
        value = -0.1 * jnp.sum(amplitude * jnp.cos(frequency * x + phase), axis=1) - jnp.sum(x**2, axis=1)
        return value[:, None]
