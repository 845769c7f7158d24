"""Small rating files in the datasets' exact distribution formats, written by the tests."""

import zipfile

import numpy as np

from amaml.data import WHEEL_MEMBER


def random_ratings(users=30, items=40, per_user=(12, 25), seed=0):
    """(user, item, rating) rows: user u rates a random subset of the items, 1-5 stars."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(1, users + 1):
        count = rng.integers(per_user[0], per_user[1] + 1)
        for i in np.sort(rng.choice(np.arange(1, items + 1), count, replace=False)):
            rows.append((u, int(i), int(rng.integers(1, 6))))
    return rows


def write_u_data(directory, rows, extra_lines=()):
    directory.mkdir(parents=True, exist_ok=True)
    lines = [f"{u}\t{i}\t{r}\t{880000000 + k}" for k, (u, i, r) in enumerate(rows)] + list(extra_lines)
    (directory / "u.data").write_text("\n".join(lines) + "\n")


def write_ratings_dat(directory, rows, extra_lines=()):
    directory.mkdir(parents=True, exist_ok=True)
    lines = [f"{u}::{i}::{r}::{970000000 + k}" for k, (u, i, r) in enumerate(rows)] + list(extra_lines)
    (directory / "ratings.dat").write_text("\n".join(lines) + "\n")


def write_xls(path, rows):
    """An old binary Excel (BIFF) workbook, one sheet, the given rows."""
    import xlwt

    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlwt.Workbook()
    sheet = book.add_sheet("jester-data-1")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.save(str(path))


def jester_rows(table, with_count=True):
    """``table``: one list of 100 ratings per user (99 = not rated); rows of
    ``jester-data-1.xls``, with the number of rated jokes first."""
    return [([sum(v != 99 for v in ratings)] if with_count else []) + list(ratings) for ratings in table]


def write_fake_wheel(path, rows, header="user_id:token\titem_id:token\trating:float\ttimestamp:float"):
    text = "\n".join([header] + [f"{u}\t{i}\t{r}\t{880000000 + k}" for k, (u, i, r) in enumerate(rows)]) + "\n"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("recbole/__init__.py", "")
        z.writestr(WHEEL_MEMBER, text)
    return path
