"""MovieLens-100K inside the PyPI wheel of RecBole 1.2.1 (read as a zip; nothing installed)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from jaxtyping import Int

WHEEL_MEMBER = "recbole/dataset_example/ml-100k/ml-100k.inter"
"""The MovieLens-100K ratings' path inside the RecBole wheel on PyPI (the mirror :func:`fetch` can read)."""
HEADER = ["user_id:token", "item_id:token", "rating:float", "timestamp:float"]


def movielens_100k_rows_from_wheel(wheel: str | Path) -> Int[np.ndarray, "N 4"]:
    """The rows ``(user, item, rating, timestamp)`` of MovieLens-100K, read from the member
    ``recbole/dataset_example/ml-100k/ml-100k.inter`` of a ``recbole==1.2.1`` wheel.

    That member is a TSV with the header ``user_id:token item_id:token rating:float
    timestamp:float`` and then the rows of ``u.data`` in their original order. Only this
    one member is read; the wheel is neither installed nor imported.

    Args:
        wheel: the path of the ``.whl`` file (a zip).

    Returns:
        int64 rows ``(N, 4)``: user, item, rating, timestamp.

    Raises:
        ValueError: for a file that is not a readable zip, one without the member, a wrong
            header, or a malformed row (naming the line).

    Example:
        >>> import tempfile, zipfile
        >>> from pathlib import Path
        >>> from amaml.data import WHEEL_MEMBER, movielens_100k_rows_from_wheel
        >>> member = "user_id:token\\titem_id:token\\trating:float\\ttimestamp:float\\n196\\t242\\t3\\t881250949\\n"
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     wheel = Path(tmp) / "recbole-1.2.1-py3-none-any.whl"
        ...     with zipfile.ZipFile(wheel, "w") as archive:
        ...         archive.writestr(WHEEL_MEMBER, member)
        ...     movielens_100k_rows_from_wheel(wheel).tolist()
        [[196, 242, 3, 881250949]]
    """
    path = Path(wheel)
    try:
        with zipfile.ZipFile(path) as archive:
            text = archive.read(WHEEL_MEMBER).decode("utf-8")
    except (zipfile.BadZipFile, OSError) as error:
        raise ValueError(f"`wheel` {path} is not a readable wheel (zip) file: {error}.") from None
    except KeyError:
        raise ValueError(f"`wheel` {path} has no member {WHEEL_MEMBER}; is it recbole 1.2.1?") from None
    lines = text.splitlines()
    if not lines or lines[0].split("\t") != HEADER:
        raise ValueError(f"{path}:{WHEEL_MEMBER}, line 1: expected the header {HEADER}.")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        try:
            if len(fields) != 4:
                raise ValueError(f"expected 4 fields, got {len(fields)}")
            rows.append([int(f) for f in fields])
        except ValueError as error:
            raise ValueError(f"{path}:{WHEEL_MEMBER}, line {number}: malformed row {line!r}: {error}.") from None
    return np.asarray(rows, dtype=np.int64).reshape(-1, 4)


def u_data_text(rows: Int[np.ndarray, "N 4"]) -> str:
    """The rows in MovieLens-100K's ``u.data`` layout: ``user\\titem\\trating\\ttimestamp``.

    Args:
        rows: integer rows ``(N, 4)``: user, item, rating, timestamp (as
            :func:`movielens_100k_rows_from_wheel` returns them).

    Returns:
        The text of ``u.data``: one tab-separated line per row, each ending in a newline.

    Example:
        >>> import numpy as np
        >>> from amaml.data import u_data_text
        >>> u_data_text(np.array([[196, 242, 3, 881250949], [186, 302, 3, 891717742]]))
        '196\\t242\\t3\\t881250949\\n186\\t302\\t3\\t891717742\\n'
    """
    buffer = io.StringIO()
    np.savetxt(buffer, rows, fmt="%d", delimiter="\t")
    return buffer.getvalue()
