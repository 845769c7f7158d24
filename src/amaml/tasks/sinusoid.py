"""The sinusoid family of Finn et al. (2017)."""

from __future__ import annotations

import dataclasses
from typing import final

import jax
import jax.numpy as jnp
from jax.typing import DTypeLike
from jaxtyping import Array, Float, PRNGKeyArray

from ._base import AbstractTaskFamily


@final
@dataclasses.dataclass(frozen=True)
class Sinusoid(AbstractTaskFamily):
    r""":math:`f(x) = A \sin(x - \varphi)`, :math:`A \sim U[0.1, 5]`,
    :math:`\varphi \sim U[0, \pi]`, :math:`x \sim U[-5, 5]` (Finn et al., 2017).

    The field's standard smoke test for few-shot regression; one input dimension.

    Args:
        dtype: the floating dtype of the inputs and targets (default float32). ``dim`` is
            always 1 (not an argument).

    Example:
        >>> import jax, jax.numpy as jnp, amaml
        >>> family = amaml.tasks.Sinusoid()
        >>> family.dim, family.domain
        (1, (-5.0, 5.0))
        >>> float(family.evaluate(jnp.array([2.0, 0.0], jnp.float32), jnp.zeros((1, 1), jnp.float32))[0, 0])
        0.0
        >>> family.sample_tasks(jax.random.key(0), 2, 5, 10).support_y.shape
        (2, 5, 1)
    """

    dtype: DTypeLike = jnp.float32
    dim: int = dataclasses.field(default=1, init=False)

    @property
    def domain(self) -> tuple[float, float]:
        return (-5.0, 5.0)

    def sample_parameters(self, key: PRNGKeyArray, count: int) -> Float[Array, "count 2"]:
        r"""Draw ``count`` functions' amplitude :math:`A \sim U[0.1, 5]` and phase :math:`\varphi \sim U[0, \pi]`.

        Args:
            key: the PRNG key of the draw.
            count: the number of functions.

        Returns:
            One row ``(A, phase)`` per function, ``(count, 2)``.
        """
        k_amp, k_phase = jax.random.split(key)
        amplitude = jax.random.uniform(k_amp, (count,), self.dtype, 0.1, 5.0)
        phase = jax.random.uniform(k_phase, (count,), self.dtype, 0.0, jnp.pi)
        return jnp.stack([amplitude, phase], axis=1)

    def evaluate(self, parameters: Float[Array, " 2"], x: Float[Array, "n 1"]) -> Float[Array, "n 1"]:
        return parameters[0] * jnp.sin(x - parameters[1])
