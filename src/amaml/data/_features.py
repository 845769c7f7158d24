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
        """The sorted ids of the items kept, given the item id of every rating.

        Args:
            item: the item id of every rating of the dataset (all users, test users included), ``(N,)``.

        Returns:
            The kept item ids, sorted, ``(I,)``; an item's index (in :meth:`fit`, the tasks) is its position.
        """

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
        ``item`` in ``[0, n_items)`` (positions in :meth:`select_items`), ``y`` standardised.

        Args:
            user: the training user of every training rating, an index in ``[0, n_users)``, ``(M,)``.
            item: its item, an index in ``[0, n_items)`` (a position in :meth:`select_items`), ``(M,)``.
            y: its standardised rating, ``(M,)``.
            n_users: the number of training users.
            n_items: the number of kept items ``I``.

        Returns:
            The item vectors, float ``(n_items, dim)``: row ``j`` is the input ``x`` of item index ``j``.
        """


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
        """The ``dim`` most-rated items (by number of ratings, ties to the smaller id), sorted.

        Args:
            item: the item id of every rating of the dataset (all users), ``(N,)``.

        Returns:
            The ``dim`` kept item ids, sorted, ``(dim,)``.

        Raises:
            ValueError: when the ratings have fewer than ``dim`` distinct items.
        """
        ids, counts = np.unique(item, return_counts=True)
        if len(ids) < self.dim:
            raise ValueError(f"one-hot features need at least `dim` = {self.dim} distinct items, got {len(ids)}.")
        return np.sort(ids[np.argsort(-counts, kind="stable")[: self.dim]])

    def fit(self, user, item, y, n_users, n_items):
        """The unit vectors: item index ``j`` gets ``e_j``; the ratings are not used.

        Args:
            user, item, y, n_users: ignored (any values, ``None`` included).
            n_items: the number of kept items (``dim``, after :meth:`select_items`).

        Returns:
            ``np.eye(n_items, dim)``, float64.
        """
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
        """Every item that anyone rated, test users included (items only test users rated get ``x = 0``).

        Args:
            item: the item id of every rating of the dataset, ``(N,)``.

        Returns:
            The distinct item ids, sorted, ``(I,)``.
        """
        return np.unique(item)

    def fit(self, user, item, y, n_users, n_items):
        """The rescaled item factors ``(V_d S_d)_j / s`` of the training users' rating matrix (see the class).

        Args:
            user: the training user index of every training rating, in ``[0, n_users)``, ``(M,)``.
            item: its item index, in ``[0, n_items)``, ``(M,)``.
            y: its standardised rating, ``(M,)``; unrated entries of the matrix are 0.
            n_users: the number of training users (rows of the matrix).
            n_items: the number of items (columns).

        Returns:
            The item vectors, float64 ``(n_items, dim)``, of unit root-mean-square over all entries.

        Raises:
            ValueError: with fewer than ``dim`` training users or items.
        """
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
