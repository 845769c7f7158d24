"""The Alpine family of the A-MAML paper."""

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
class Alpine(AbstractTaskFamily):
    r""":math:`f(x) = \sum_{i=1}^d \lvert x_i \sin(x_i + \varphi_i) + 0.1 x_i \rvert`.

    One phase per coordinate, :math:`\varphi_i \sim U[-5\pi/12, 5\pi/12]`,
    :math:`x \in [-10, 10]^d` (Li et al., 2023).

    The authors' code uses the first phase for both coordinates of Alpine2D (a defect listed
    in the spec); we follow the paper's formula, one independent phase per coordinate, so
    that ``dim`` phases define a function.

    Args:
        dim: the input dimension :math:`d` (default 2, the paper's Alpine2D).
        dtype: the floating dtype of the inputs and targets (default float32).

    Example:
        >>> import jax, jax.numpy as jnp, amaml
        >>> family = amaml.tasks.Alpine(2)
        >>> family.domain
        (-10.0, 10.0)
        >>> float(family.evaluate(jnp.zeros(2, jnp.float32), jnp.zeros((1, 2), jnp.float32))[0, 0])  # f(0) = 0
        0.0
        >>> family.sample_parameters(jax.random.key(0), 3).shape  # 3 functions, one phase per coordinate
        (3, 2)
    """

    dim: int = option(2, doc="input dimension d of the functions", kw_only=False)
    dtype: DTypeLike = jnp.float32

    @property
    def domain(self) -> tuple[float, float]:
        return (-10.0, 10.0)

    def sample_parameters(self, key: PRNGKeyArray, count: int) -> Float[Array, "count d"]:
        r"""Draw ``count`` functions' phases, :math:`\varphi_i \sim U[-5\pi/12, 5\pi/12]`.

        Args:
            key: the PRNG key of the draw.
            count: the number of functions.

        Returns:
            One row of ``d`` phases per function, ``(count, d)``.
        """
        bound = 5.0 * jnp.pi / 12.0
        return jax.random.uniform(key, (count, self.dim), self.dtype, -bound, bound)

    def evaluate(self, parameters: Float[Array, " d"], x: Float[Array, "n d"]) -> Float[Array, "n 1"]:
        return jnp.sum(jnp.abs(x * jnp.sin(x + parameters[None, :]) + 0.1 * x), axis=1)[:, None]
