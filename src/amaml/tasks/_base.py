"""The task-family concept."""

from __future__ import annotations

import abc

import jax
import jax.numpy as jnp
from jax.typing import DTypeLike
from jaxtyping import Array, Float, PRNGKeyArray

from .._task import Task


class AbstractTaskFamily(abc.ABC):
    r"""A distribution over functions :math:`f_\phi: [\mathrm{low}, \mathrm{high}]^d \to \mathbb{R}`.

    A family draws function parameters :math:`\phi`, draws inputs uniformly from its box
    domain and evaluates :math:`f_\phi`. Targets have shape ``(n, 1)`` so that an MLP's
    output matches them. Subclasses are small frozen dataclasses with ``dim`` and ``dtype``.

    Abstract attributes:
        dim: the input dimension :math:`d`.
        dtype: the floating dtype of the inputs and targets.

    Example:
        >>> import jax, amaml
        >>> family = amaml.tasks.Sinusoid()
        >>> isinstance(family, amaml.tasks.AbstractTaskFamily)
        True
        >>> tasks = family.sample_tasks(jax.random.key(0), 3, 5, 10)  # 3 tasks, 5 support, 10 query
        >>> tasks.support_x.shape, tasks.query_y.shape
        ((3, 5, 1), (3, 10, 1))
        >>> amaml.tasks.Alpine(2).grid(1000).shape  # 31 x 31
        (961, 2)
    """

    dim: int
    dtype: DTypeLike

    def __post_init__(self) -> None:  # run by the dataclass subclasses
        check_dim(self.dim)

    @property
    @abc.abstractmethod
    def domain(self) -> tuple[float, float]:
        """``(low, high)`` of every input coordinate."""

    @abc.abstractmethod
    def sample_parameters(self, key: PRNGKeyArray, count: int) -> Float[Array, "count k"]:
        """Draw ``count`` function parameter vectors."""

    @abc.abstractmethod
    def evaluate(self, parameters: Float[Array, " k"], x: Float[Array, "n d"]) -> Float[Array, "n 1"]:
        """Evaluate one function at the inputs ``x``."""

    def sample_inputs(self, key: PRNGKeyArray, count: int, n: int) -> Float[Array, "count n d"]:
        """``n`` inputs per function, uniform on the domain."""
        low, high = self.domain
        return jax.random.uniform(key, (count, n, self.dim), self.dtype, low, high)

    def grid(self, points: int = 1000) -> Float[Array, "g d"]:
        """A dense tensor grid of about ``points`` inputs (31 x 31 = 961 for ``d = 2``)."""
        per_axis = max(2, int(points ** (1.0 / self.dim) + 1e-9))  # 31 x 31 for 1000 points in 2-D
        axis = jnp.linspace(*self.domain, per_axis, dtype=self.dtype)
        mesh = jnp.meshgrid(*([axis] * self.dim), indexing="ij")
        return jnp.stack([m.reshape(-1) for m in mesh], axis=1)

    def sample_tasks(self, key: PRNGKeyArray, batch: int, n_support: int, n_query: int) -> Task:
        """A batch of fresh tasks: new functions, new support and query inputs (no pools)."""
        k_params, k_support, k_query = jax.random.split(key, 3)
        parameters = self.sample_parameters(k_params, batch)
        support_x = self.sample_inputs(k_support, batch, n_support)
        query_x = self.sample_inputs(k_query, batch, n_query)
        evaluate = jax.vmap(self.evaluate)
        return Task(support_x, evaluate(parameters, support_x), query_x, evaluate(parameters, query_x))


def check_dim(dim) -> None:
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise ValueError(f"`dim` must be a positive integer, got {dim!r}.")
