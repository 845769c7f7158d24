"""Readers of the three distribution formats, and MovieLens-100K out of the RecBole wheel."""

import zipfile

import numpy as np
import pytest

from amaml.data import (
    WHEEL_MEMBER,
    load_jester_1,
    load_movielens_1m,
    load_movielens_100k,
    movielens_100k_rows_from_wheel,
    u_data_text,
)
from cf_fixtures import jester_rows, random_ratings, write_fake_wheel, write_ratings_dat, write_u_data, write_xls

ROWS = random_ratings(users=6, items=10, per_user=(3, 6))


def as_rows(ratings):
    return list(zip(ratings.user.tolist(), ratings.item.tolist(), ratings.rating.astype(int).tolist()))


@pytest.mark.parametrize("write,load", [(write_u_data, load_movielens_100k), (write_ratings_dat, load_movielens_1m)])
def test_movielens_files_read_back_exactly(tmp_path, write, load):
    write(tmp_path, ROWS)
    ratings = load(tmp_path)
    assert as_rows(ratings) == ROWS
    assert ratings.summary() == (len(ROWS), 6, len({i for _, i, _ in ROWS}))
    assert ratings.rating.dtype == np.float64 and ratings.user.dtype == np.int64


@pytest.mark.parametrize(
    "write,name,bad",
    [
        (write_u_data, "u.data", "7\t3\tfive\t881250949"),
        (write_u_data, "u.data", "7\t3\t6\t881250949"),  # out of 1-5
        (write_u_data, "u.data", "7\t3\t4"),  # a field short
        (write_ratings_dat, "ratings.dat", "7::3::4"),
        (write_ratings_dat, "ratings.dat", "7::0::4::970000000"),  # ids are 1-based
    ],
)
def test_a_malformed_movielens_line_is_named_by_file_and_line(tmp_path, write, name, bad):
    write(tmp_path, ROWS[:4], extra_lines=[bad, "1\t2\t3\t4" if name == "u.data" else "1::2::3::4"])
    with pytest.raises(ValueError, match=rf"{name}, line 5: malformed row"):
        load_movielens_100k(tmp_path) if name == "u.data" else load_movielens_1m(tmp_path)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"u\.data, which does not exist"):
        load_movielens_100k(tmp_path)


def jester_table():
    rng = np.random.default_rng(1)
    table = np.round(rng.uniform(-10, 10, (4, 100)), 2)
    table[0, 5:] = 99  # user 1 rated jokes 1-5 only
    table[2, ::3] = 99
    table[3, 0], table[3, 99] = -10.0, 10.0  # the ends of the scale are ratings, not sentinels
    return table


@pytest.mark.parametrize("with_count", [True, False])
def test_jester_drops_the_99_sentinel_and_keeps_everything_else(tmp_path, with_count):
    table = jester_table()
    write_xls(tmp_path / "jester-data-1.xls", jester_rows(table.tolist(), with_count))
    ratings = load_jester_1(tmp_path)
    rated = table != 99
    assert len(ratings.rating) == rated.sum() and not np.any(ratings.rating == 99)
    users, jokes = np.nonzero(rated)
    np.testing.assert_array_equal(ratings.user, users + 1)
    np.testing.assert_array_equal(ratings.item, jokes + 1)
    np.testing.assert_allclose(ratings.rating, table[rated])
    assert ratings.summary() == (rated.sum(), 4, 100)
    assert ratings.item[ratings.user == 1].tolist() == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    "edit,words",
    [
        (lambda row: row.__setitem__(7, 12.5), "joke 7: rating 12.5 is neither in"),
        (lambda row: row.__setitem__(7, "n/a"), "column 8 is not a number: 'n/a'"),
        (lambda row: row.__delitem__(slice(50, None)), "expected 101 columns (the count, then 100 ratings), got 50"),
        (lambda row: row.__setitem__(0, row[0] + 1), "the first column says"),
    ],
)
def test_a_malformed_jester_row_is_named_by_file_and_line(tmp_path, edit, words):
    rows = jester_rows(jester_table().tolist())
    edit(rows[2])
    write_xls(tmp_path / "jester-data-1.xls", rows)
    with pytest.raises(ValueError, match=r"jester-data-1\.xls, line 3: malformed row") as info:
        load_jester_1(tmp_path)
    assert words in str(info.value)


def test_the_wheel_member_becomes_u_data(tmp_path):
    wheel = write_fake_wheel(tmp_path / "recbole-1.2.1-py3-none-any.whl", ROWS)
    rows = movielens_100k_rows_from_wheel(wheel)
    assert rows.shape == (len(ROWS), 4) and [tuple(r[:3]) for r in rows.tolist()] == ROWS
    (tmp_path / "ml").mkdir()
    (tmp_path / "ml" / "u.data").write_text(u_data_text(rows))
    assert as_rows(load_movielens_100k(tmp_path / "ml")) == ROWS
    assert (tmp_path / "ml" / "u.data").read_text().splitlines()[0] == "\t".join(map(str, rows[0]))


def test_a_bad_wheel_is_refused_with_the_reason(tmp_path):
    with pytest.raises(ValueError, match="expected the header"):
        movielens_100k_rows_from_wheel(write_fake_wheel(tmp_path / "a.whl", ROWS, header="user\titem"))
    with zipfile.ZipFile(tmp_path / "c.whl", "w") as z:
        z.writestr(WHEEL_MEMBER, "user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t2\t3\n")
    with pytest.raises(ValueError, match=r"line 2: malformed row"):
        movielens_100k_rows_from_wheel(tmp_path / "c.whl")
    (tmp_path / "d.whl").write_text("not a zip")
    with pytest.raises(ValueError, match="not a readable wheel"):
        movielens_100k_rows_from_wheel(tmp_path / "d.whl")
