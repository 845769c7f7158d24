"""Explicit ratings and the readers of the MovieLens text formats.

Readers parse every field as a number and never unpickle or evaluate anything; a row that
does not parse is a ``ValueError`` naming the file and its 1-based line number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
from jaxtyping import Float, Int


class Ratings(NamedTuple):
    """Explicit ratings as three aligned arrays, one entry per (user, item) rating.

    Attributes:
        user: user ids as in the source file, shape ``(N,)``, int64.
        item: item ids as in the source file, shape ``(N,)``, int64.
        rating: the ratings, shape ``(N,)``, float64 (1-5 stars for MovieLens,
            [-10, 10] for Jester).

    Example:
        >>> import numpy as np
        >>> from amaml.data import Ratings
        >>> ratings = Ratings(np.array([1, 1, 2]), np.array([10, 20, 10]), np.array([4.0, 3.0, 5.0]))
        >>> ratings.summary()  # (ratings, distinct users, distinct items)
        (3, 2, 2)
    """

    user: Int[np.ndarray, " N"]
    item: Int[np.ndarray, " N"]
    rating: Float[np.ndarray, " N"]

    @classmethod
    def from_rows(cls, users: list[int], items: list[int], ratings: list[float]) -> Ratings:
        """Ratings from three aligned lists, one entry per rating (what the readers collect).

        Args:
            users: the user id of every rating.
            items: the item id of every rating.
            ratings: the ratings themselves.

        Returns:
            :class:`Ratings` with ``user`` and ``item`` as int64 and ``rating`` as float64 arrays ``(N,)``.
        """
        return cls(np.asarray(users, np.int64), np.asarray(items, np.int64), np.asarray(ratings, np.float64))

    def summary(self) -> tuple[int, int, int]:
        """``(number of ratings, distinct users, distinct items)``.

        Returns:
            The three counts, as Python integers.
        """
        return len(self.rating), len(np.unique(self.user)), len(np.unique(self.item))


def data_file(directory: str | Path, name: str) -> Path:
    """``directory / name``, or a ``ValueError`` naming the missing file."""
    path = Path(directory) / name
    if not path.is_file():
        raise ValueError(f"expected the data file {path}, which does not exist.")
    return path


def _lines(path: Path, encoding: str) -> Iterator[tuple[int, str]]:
    with path.open(encoding=encoding, newline="") as f:
        for number, line in enumerate(f, start=1):
            line = line.rstrip("\r\n")
            if line.strip():
                yield number, line


def _int_field(text: str, what: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"{what} must be a positive integer, got {text!r}")
    return value


def _parse_star_rows(path: Path, split: Callable[[str], list[str]], layout: str, encoding: str) -> Ratings:
    users, items, ratings = [], [], []
    for number, line in _lines(path, encoding):
        fields = split(line)
        try:
            if len(fields) != 4:
                raise ValueError(f"expected 4 fields ({layout}), got {len(fields)}")
            user, item = _int_field(fields[0], "user id"), _int_field(fields[1], "item id")
            rating = int(fields[2])
            if not 1 <= rating <= 5:
                raise ValueError(f"rating must be an integer 1-5, got {fields[2]!r}")
            int(fields[3])  # the timestamp must at least be a number
        except ValueError as error:
            raise ValueError(f"{path}, line {number}: malformed row {line!r}: {error}.") from None
        users.append(user)
        items.append(item)
        ratings.append(rating)
    if not ratings:
        raise ValueError(f"{path} holds no ratings.")
    return Ratings.from_rows(users, items, ratings)


def load_movielens_100k(directory: str | Path) -> Ratings:
    """MovieLens-100K from ``directory/u.data``: tab-separated ``user item rating timestamp``
    (1-based ids, integer 1-5 stars), as distributed in ``ml-100k.zip``.

    Args:
        directory: the directory holding ``u.data`` (read as Latin-1).

    Returns:
        :class:`Ratings`, in the file's order (the timestamps are checked, not kept).

    Raises:
        ValueError: for a missing file, a row that does not parse (naming the file and its
            1-based line), or a file with no ratings.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from amaml.data import load_movielens_100k
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = (Path(tmp) / "u.data").write_text("196\\t242\\t3\\t881250949\\n186\\t302\\t3\\t891717742\\n")
        ...     ratings = load_movielens_100k(tmp)
        >>> ratings.user.tolist(), ratings.item.tolist(), ratings.rating.tolist()
        ([196, 186], [242, 302], [3.0, 3.0])
    """
    return _parse_star_rows(
        data_file(directory, "u.data"),
        lambda line: line.split("\t"),
        "user, item, rating, timestamp separated by tabs",
        "latin-1",
    )


def load_movielens_1m(directory: str | Path) -> Ratings:
    """MovieLens-1M from ``directory/ratings.dat``: ``UserID::MovieID::Rating::Timestamp``
    (1-based ids, integer 1-5 stars), as distributed in ``ml-1m.zip``.

    Args:
        directory: the directory holding ``ratings.dat`` (read as Latin-1).

    Returns:
        :class:`Ratings`, in the file's order (the timestamps are checked, not kept).

    Raises:
        ValueError: for a missing file, a row that does not parse (naming the file and its
            1-based line), or a file with no ratings.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from amaml.data import load_movielens_1m
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = (Path(tmp) / "ratings.dat").write_text("1::1193::5::978300760\\n1::661::3::978302109\\n")
        ...     ratings = load_movielens_1m(tmp)
        >>> ratings.summary(), ratings.rating.tolist()
        ((2, 1, 2), [5.0, 3.0])
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = (Path(tmp) / "ratings.dat").write_text("1::1193::6::978300760\\n")
        ...     load_movielens_1m(tmp)
        Traceback (most recent call last):
        ValueError: ...ratings.dat, line 1: malformed row '1::1193::6::978300760': rating must be an integer 1-5, ...
    """
    return _parse_star_rows(
        data_file(directory, "ratings.dat"),
        lambda line: line.split("::"),
        "UserID::MovieID::Rating::Timestamp",
        "latin-1",
    )
