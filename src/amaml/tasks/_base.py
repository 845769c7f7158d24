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
        r"""Draw ``count`` function parameter vectors.

        Args:
            key: the PRNG key of the draw.
            count: the number of functions.

        Returns:
            The parameters :math:`\phi`, one row per function, ``(count, k)`` of ``dtype`` (``k`` is the family's).
        """

    @abc.abstractmethod
    def evaluate(self, parameters: Float[Array, " k"], x: Float[Array, "n d"]) -> Float[Array, "n 1"]:
        r"""Evaluate one function at the inputs ``x``.

        Args:
            parameters: one function's :math:`\phi`, a row of :meth:`sample_parameters`, ``(k,)``.
            x: the inputs, ``(n, d)``.

        Returns:
            The targets :math:`f_\phi(x)`, ``(n, 1)``.
        """

    def sample_inputs(self, key: PRNGKeyArray, count: int, n: int) -> Float[Array, "count n d"]:
        """``n`` inputs per function, uniform on the domain.

        Args:
            key: the PRNG key of the draw.
            count: the number of functions.
            n: inputs per function.

        Returns:
            Inputs i.i.d. uniform on ``[low, high]^d``, ``(count, n, d)`` of ``dtype``.
        """
        low, high = self.domain
        return jax.random.uniform(key, (count, n, self.dim), self.dtype, low, high)

    def grid(self, points: int = 1000) -> Float[Array, "g d"]:
        """A dense tensor grid of about ``points`` inputs (31 x 31 = 961 for ``d = 2``).

        Args:
            points: about this many inputs: ``m = max(2, floor(points ** (1/d)))`` per axis.

        Returns:
            The ``g = m^d`` grid points, ``(g, d)`` of ``dtype``: ``m`` evenly spaced values from ``low`` to
            ``high`` (both included) per axis, the first coordinate varying slowest.
        """
        per_axis = max(2, int(points ** (1.0 / self.dim) + 1e-9))  # 31 x 31 for 1000 points in 2-D
        axis = jnp.linspace(*self.domain, per_axis, dtype=self.dtype)
        mesh = jnp.meshgrid(*([axis] * self.dim), indexing="ij")
        return jnp.stack([m.reshape(-1) for m in mesh], axis=1)

    def sample_tasks(self, key: PRNGKeyArray, batch: int, n_support: int, n_query: int) -> Task:
        """A batch of fresh tasks: new functions, new support and query inputs (no pools).

        Args:
            key: the PRNG key of the functions and their inputs.
            batch: the number of tasks (one new function each).
            n_support: support examples per task.
            n_query: query examples per task.

        Returns:
            A batch of tasks: ``support_x`` ``(batch, n_support, d)``, ``support_y`` ``(batch, n_support, 1)``,
            ``query_x`` ``(batch, n_query, d)``, ``query_y`` ``(batch, n_query, 1)``; not standardised.
        """
        k_params, k_support, k_query = jax.random.split(key, 3)
        parameters = self.sample_parameters(k_params, batch)
        support_x = self.sample_inputs(k_support, batch, n_support)
        query_x = self.sample_inputs(k_query, batch, n_query)
        evaluate = jax.vmap(self.evaluate)
        return Task(support_x, evaluate(parameters, support_x), query_x, evaluate(parameters, query_x))


def check_dim(dim) -> None:
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise ValueError(f"`dim` must be a positive integer, got {dim!r}.")
