"""Item representations: the 100-dimensional input x of a collaborative-filtering task.

The paper does not say how its 100-dimensional input was built; these are our two choices.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import final

import numpy as np
from jaxtyping import Float, Int

from .. import _validate
from .._fields import option


class AbstractItemFeatures(abc.ABC):
    """Chooses the items a task may use and maps each of them to a vector of length ``dim``.

    ``fit`` sees the training users' standardised ratings only, never a test user's.
    Subclasses are frozen dataclasses with a field ``dim`` (checked positive); they implement
    :meth:`select_items` and :meth:`fit`.

    Example:
        >>> from amaml.data import AbstractItemFeatures, OneHotItems, SVDItems
        >>> issubclass(OneHotItems, AbstractItemFeatures), SVDItems(8).dim
        (True, 8)
    """

    dim: int

    def __post_init__(self) -> None:  # run by the dataclass subclasses
        _validate.positive_int("dim", self.dim)

    @abc.abstractmethod
    def select_items(self, item: Int[np.ndarray, " N"]) -> Int[np.ndarray, " I"]:
        """The sorted ids of the items kept, given the item id of every rating."""

    @abc.abstractmethod
    def fit(
        self,
        user: Int[np.ndarray, " M"],
        item: Int[np.ndarray, " M"],
        y: Float[np.ndarray, " M"],
        n_users: int,
        n_items: int,
    ) -> Float[np.ndarray, "I dim"]:
        """Item vectors from the training users' ratings: ``user`` in ``[0, n_users)``,
        ``item`` in ``[0, n_items)`` (positions in :meth:`select_items`), ``y`` standardised."""


@final
@dataclasses.dataclass(frozen=True)
class OneHotItems(AbstractItemFeatures):
    """x = e_j, the j-th unit vector, over the ``dim`` most-rated items (default).

    Items are ranked by their number of ratings over all users (which items were rated, not
    the ratings themselves; ties to the smaller id); ratings of other items are dropped, so
    users are restricted to these items. Jester-1 has exactly 100 jokes.

    Args:
        dim: the width of x: how many items are kept (the ``dim`` most-rated).

    Raises:
        ValueError: from :meth:`select_items`, when the ratings have fewer than ``dim``
            distinct items; from the constructor, for a ``dim`` that is not positive.

    Example:
        >>> import numpy as np
        >>> from amaml.data import OneHotItems
        >>> features = OneHotItems(2)
        >>> features.select_items(np.array([5, 5, 7, 9, 9, 9]))  # the 2 most-rated ids, sorted
        array([5, 9])
        >>> features.fit(None, None, None, 2, 2)  # x of the kept items, in that order
        array([[1., 0.],
               [0., 1.]])
    """

    dim: int = option(100, doc="width of the item input x", kw_only=False)

    def select_items(self, item):
        ids, counts = np.unique(item, return_counts=True)
        if len(ids) < self.dim:
            raise ValueError(f"one-hot features need at least `dim` = {self.dim} distinct items, got {len(ids)}.")
        return np.sort(ids[np.argsort(-counts, kind="stable")[: self.dim]])

    def fit(self, user, item, y, n_users, n_items):
        return np.eye(n_items, self.dim)


@final
@dataclasses.dataclass(frozen=True)
class SVDItems(AbstractItemFeatures):
    r"""x_j = (V_d S_d)_j / s: item factors of a rank-``dim`` truncated SVD of the training
    users' matrix of standardised ratings (0 where not rated), over all items.

    :math:`R \approx U_d S_d V_d^T` with :math:`R` of shape (training users, items); item
    :math:`j` gets row :math:`j` of :math:`V_d S_d`, divided by the root-mean-square
    :math:`s` of all its entries so that inputs are of order one (and independent of the
    factors' signs). Items no training user rated
    get the zero vector.

    Args:
        dim: the rank of the truncated SVD, i.e. the width of x.

    Raises:
        ValueError: from :meth:`fit`, with fewer than ``dim`` training users or items; from
            the constructor, for a ``dim`` that is not positive.

    Example:
        >>> import numpy as np
        >>> from amaml.data import SVDItems
        >>> user, item = np.array([0, 0, 1, 2, 2]), np.array([0, 1, 1, 0, 2])
        >>> y = np.array([1.0, -1.0, 0.5, 2.0, -0.5])
        >>> x = SVDItems(2).fit(user, item, y, n_users=3, n_items=3)
        >>> x.shape, round(float(np.sqrt(np.mean(x**2))), 3)  # rescaled to unit root-mean-square
        ((3, 2), 1.0)
    """

    dim: int = option(100, doc="width of the item input x", kw_only=False)

    def select_items(self, item):
        return np.unique(item)

    def fit(self, user, item, y, n_users, n_items):
        if min(n_users, n_items) < self.dim:
            raise ValueError(
                f"SVD features of `dim` = {self.dim} need at least that many training users and "
                f"items, got {n_users} users and {n_items} items."
            )
        matrix = np.zeros((n_users, n_items))
        matrix[user, item] = y
        # V_d S_d from the eigenvectors of the smaller Gram matrix: R^T U_d = V_d S_d.
        if n_users <= n_items:
            eigenvalues, vectors = np.linalg.eigh(matrix @ matrix.T)
            factors = matrix.T @ vectors[:, ::-1][:, : self.dim]
        else:
            eigenvalues, vectors = np.linalg.eigh(matrix.T @ matrix)
            top = np.maximum(eigenvalues[::-1][: self.dim], 0.0)
            factors = vectors[:, ::-1][:, : self.dim] * np.sqrt(top)[None, :]
        return factors / np.sqrt(np.mean(factors**2))
