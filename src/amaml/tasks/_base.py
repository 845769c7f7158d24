"""The task-family concept."""

from __future__ import annotations

import abc

import jax
from jaxtyping import Array, Float, PRNGKeyArray

from .._task import Task


class AbstractTaskFamily(abc.ABC):
    """A distribution over functions :math:`f_\\phi: \\mathbb{R}^d \\to \\mathbb{R}`.

    A family draws function parameters :math:`\\phi`, inputs from its domain, and evaluates
    :math:`f_\\phi`. Targets have shape ``(n, 1)`` so that an MLP's output matches them.
    """

    input_dim: int

    @abc.abstractmethod
    def sample_parameters(self, key: PRNGKeyArray, count: int) -> Float[Array, "count k"]:
        """Draw ``count`` function parameter vectors."""

    @abc.abstractmethod
    def sample_inputs(self, key: PRNGKeyArray, count: int, n: int) -> Float[Array, "count n d"]:
        """Draw ``n`` inputs per function, uniformly over the family's domain."""

    @abc.abstractmethod
    def evaluate(self, parameters: Float[Array, " k"], x: Float[Array, "n d"]) -> Float[Array, "n 1"]:
        """Evaluate one function at ``x``."""

    def sample_tasks(self, key: PRNGKeyArray, batch: int, n_support: int, n_query: int) -> Task:
        """A batch of fresh tasks: new functions, new support and query inputs."""
        k_params, k_support, k_query = jax.random.split(key, 3)
        parameters = self.sample_parameters(k_params, batch)
        support_x = self.sample_inputs(k_support, batch, n_support)
        query_x = self.sample_inputs(k_query, batch, n_query)
        evaluate = jax.vmap(self.evaluate)
        return Task(support_x, evaluate(parameters, support_x), query_x, evaluate(parameters, query_x))
