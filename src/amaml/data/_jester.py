"""Reader of Jester-1 (``jester-data-1.xls``, old binary Excel) through ``xlrd``.

``xlrd`` parses the BIFF records of a ``.xls`` file; it executes nothing from the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._ratings import Ratings, data_file

N_JOKES = 100
NOT_RATED = 99.0


def _row_ratings(path: Path, number: int, row: list) -> tuple[list[int], list[float]]:
    if len(row) not in (N_JOKES + 1, N_JOKES):
        raise ValueError(f"expected {N_JOKES + 1} columns (count, then {N_JOKES} ratings), got {len(row)}")
    values = []
    for column, value in enumerate(row, start=1):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
            raise ValueError(f"column {column} is not a number: {value!r}")
        values.append(float(value))
    scores = values[1:] if len(values) == N_JOKES + 1 else values
    jokes, ratings = [], []
    for joke, score in enumerate(scores, start=1):
        if score == NOT_RATED:
            continue
        if not -10.0 <= score <= 10.0:
            raise ValueError(f"joke {joke}: rating {score} is neither in [-10, 10] nor {NOT_RATED:g} (not rated)")
        jokes.append(joke)
        ratings.append(score)
    if len(values) == N_JOKES + 1 and values[0] != len(jokes):
        raise ValueError(f"the first column says {values[0]:g} jokes were rated, the row has {len(jokes)}")
    return jokes, ratings


def load_jester_1(directory: str | Path) -> Ratings:
    """Jester-1 from ``directory/jester-data-1.xls``: one row per user, the first column the
    number of jokes rated, then the ratings of jokes 1-100 in [-10, 10], 99 meaning not rated.

    Users are numbered by row (1-based), jokes 1-100; unrated entries are left out. The
    layout without the count column (100 columns) is accepted too.
    """
    import xlrd

    path = data_file(directory, "jester-data-1.xls")
    try:
        sheet = xlrd.open_workbook(str(path), on_demand=True).sheet_by_index(0)
    except xlrd.XLRDError as error:
        raise ValueError(f"{path} is not a readable .xls workbook: {error}.") from None
    users, items, ratings = [], [], []
    for index in range(sheet.nrows):
        row = sheet.row_values(index)
        try:
            jokes, scores = _row_ratings(path, index + 1, row)
        except ValueError as error:
            raise ValueError(f"{path}, line {index + 1}: malformed row: {error}.") from None
        users += [index + 1] * len(jokes)
        items += jokes
        ratings += scores
    if not ratings:
        raise ValueError(f"{path} holds no ratings.")
    return Ratings.from_rows(users, items, ratings)
