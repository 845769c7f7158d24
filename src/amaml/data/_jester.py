"""Reader of Jester-1 (``jester-data-1.xls``, old binary Excel) through ``xlrd``.

``xlrd`` parses the BIFF records of a ``.xls`` file; it executes nothing from the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._ratings import Ratings, data_file

N_JOKES = 100
NOT_RATED = 99.0


def _row_ratings(row: list, with_count: bool) -> tuple[list[int], list[float]]:
    while row and row[-1] == "":  # xlrd pads a short row with empty cells up to the sheet's width
        row = row[:-1]
    width = N_JOKES + with_count
    if len(row) != width:
        raise ValueError(
            f"expected {width} columns ({'the count, then ' if with_count else ''}{N_JOKES} ratings), got {len(row)}"
        )
    values = []
    for column, value in enumerate(row, start=1):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
            raise ValueError(f"column {column} is not a number: {value!r}")
        values.append(float(value))
    jokes, ratings = [], []
    for joke, score in enumerate(values[with_count:], start=1):
        if score == NOT_RATED:
            continue
        if not -10.0 <= score <= 10.0:
            raise ValueError(f"joke {joke}: rating {score} is neither in [-10, 10] nor {NOT_RATED:g} (not rated)")
        jokes.append(joke)
        ratings.append(score)
    if with_count and values[0] != len(jokes):
        raise ValueError(f"the first column says {values[0]:g} jokes were rated, the row has {len(jokes)}")
    return jokes, ratings


def load_jester_1(directory: str | Path) -> Ratings:
    """Jester-1 from ``directory/jester-data-1.xls``: one row per user, the first column the
    number of jokes rated, then the ratings of jokes 1-100 in [-10, 10], 99 meaning not rated.

    Users are numbered by row (1-based), jokes 1-100; unrated entries are left out. A sheet
    100 columns wide (the ratings without the count column) is accepted too.

    Args:
        directory: the directory holding ``jester-data-1.xls``.

    Returns:
        :class:`Ratings`: user = row, item = joke, rating in [-10, 10].

    Raises:
        ValueError: for a missing file, one that is not a readable ``.xls`` workbook, a
            malformed row (naming the file and its 1-based line: a wrong width, a non-number,
            a rating outside [-10, 10] and not 99, a count that disagrees with the row), or a
            sheet with no ratings.

    Example:
        >>> import tempfile, xlwt
        >>> from pathlib import Path
        >>> from amaml.data import load_jester_1
        >>> rows = [[2, 7.5, -3.0] + [99] * 98, [1, 99, 0.5] + [99] * 98]  # count, then jokes 1-100
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     book = xlwt.Workbook()
        ...     sheet = book.add_sheet("jester-data-1")
        ...     for r, row in enumerate(rows):
        ...         for c, value in enumerate(row):
        ...             sheet.write(r, c, value)
        ...     book.save(str(Path(tmp) / "jester-data-1.xls"))
        ...     ratings = load_jester_1(tmp)
        >>> ratings.user.tolist(), ratings.item.tolist(), ratings.rating.tolist()
        ([1, 1, 2], [1, 2, 2], [7.5, -3.0, 0.5])
    """
    import xlrd

    path = data_file(directory, "jester-data-1.xls")
    try:
        sheet = xlrd.open_workbook(str(path), on_demand=True).sheet_by_index(0)
    except xlrd.XLRDError as error:
        raise ValueError(f"{path} is not a readable .xls workbook: {error}.") from None
    with_count = sheet.ncols != N_JOKES
    users, items, ratings = [], [], []
    for index in range(sheet.nrows):
        try:
            jokes, scores = _row_ratings(sheet.row_values(index), with_count)
        except ValueError as error:
            raise ValueError(f"{path}, line {index + 1}: malformed row: {error}.") from None
        users += [index + 1] * len(jokes)
        items += jokes
        ratings += scores
    if not ratings:
        raise ValueError(f"{path} holds no ratings.")
    return Ratings.from_rows(users, items, ratings)
