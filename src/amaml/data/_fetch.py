"""The rating datasets: where each file comes from, reading it, and fetching it to disk."""

from __future__ import annotations

import dataclasses
import io
import logging
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from .._io import atomic_write_bytes, atomic_write_text
from .._registry import Registry
from ._jester import load_jester_1
from ._ratings import Ratings, load_movielens_1m, load_movielens_100k
from ._wheel import movielens_100k_rows_from_wheel, u_data_text

log = logging.getLogger("amaml")


@dataclasses.dataclass(frozen=True)
class DataSource:
    """One rating dataset: its reader, the file the reader needs, and where that file comes from.

    Attributes:
        loader: ``loader(directory) -> Ratings``.
        filename: the file ``loader`` reads inside its directory.
        url: the official archive.
        member: the file inside that archive.
        expected: (ratings, users, items) a complete copy has; ``None`` where not checked.
        wheel: a PyPI requirement whose wheel holds the data, if any.

    Example:
        >>> from amaml.data import DATASETS
        >>> source = DATASETS["movielens-100k"]
        >>> source.filename, source.expected, source.wheel
        ('u.data', (100000, 943, 1682), 'recbole==1.2.1')
    """

    loader: Callable[[Path], Ratings]
    filename: str
    url: str  # the official archive
    member: str  # the file inside that archive
    expected: tuple[int | None, int | None, int | None]  # ratings, users, items (None: not checked)
    wheel: str | None = None  # a PyPI requirement whose wheel holds the data, if any


DATASETS: Registry[DataSource] = Registry(
    "rating dataset",
    {
        "movielens-100k": DataSource(
            load_movielens_100k,
            "u.data",
            "https://files.grouplens.org/datasets/movielens/ml-100k.zip",
            "ml-100k/u.data",
            (100_000, 943, 1_682),
            wheel="recbole==1.2.1",
        ),
        "movielens-1m": DataSource(
            load_movielens_1m,
            "ratings.dat",
            "https://files.grouplens.org/datasets/movielens/ml-1m.zip",
            "ml-1m/ratings.dat",
            (1_000_209, 6_040, 3_706),
        ),
        "jester-1": DataSource(
            load_jester_1,
            "jester-data-1.xls",
            "https://eigentaste.berkeley.edu/dataset/jester_dataset_1_1.zip",
            "jester-data-1.xls",
            (None, 24_983, 100),
        ),
    },
)
"""Rating dataset name -> its :class:`DataSource` (file, checksum, loader), for ``amaml data fetch``."""


def where_to_put(name: str, directory: Path) -> str:
    """How to get dataset ``name``'s file into ``directory`` by hand."""
    source = DATASETS.lookup(name)
    return f"download {source.url}, take {source.member} out of it and put it at {directory / source.filename}" + (
        f", or run `amaml data fetch {name} --dir {directory}`" if source.wheel else ""
    )


def load_ratings(name: str, directory: str | Path) -> Ratings:
    """Read dataset ``name`` from ``directory``.

    Args:
        name: a name of :data:`DATASETS` (``"movielens-100k"``, ``"movielens-1m"``, ``"jester-1"``).
        directory: the directory holding the dataset's file (:attr:`DataSource.filename`).

    Returns:
        :class:`Ratings`, as the dataset's reader returns them.

    Raises:
        ValueError: for an unknown name, or a missing file (saying how to get it), or a
            malformed one (naming the file and line).

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from amaml.data import load_ratings
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = (Path(tmp) / "u.data").write_text("1\\t10\\t4\\t881250949\\n2\\t10\\t3\\t891717742\\n")
        ...     load_ratings("movielens-100k", tmp).summary()
        (2, 2, 1)
    """
    source = DATASETS.lookup(name)
    directory = Path(directory)
    if not (directory / source.filename).is_file():
        raise ValueError(f"{name}: {directory / source.filename} does not exist; {where_to_put(name, directory)}.")
    return source.loader(directory)


def _official(source: DataSource, timeout: float) -> bytes:
    with urllib.request.urlopen(source.url, timeout=timeout) as response:  # noqa: S310 (a fixed https URL)
        archive = response.read()
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        return z.read(source.member)


def _from_wheel(source: DataSource) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", source.wheel, "-d", tmp]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise OSError(f"`{' '.join(command)}` failed: {result.stderr.strip()[-500:]}")
        wheels = list(Path(tmp).glob("*.whl"))
        if len(wheels) != 1:
            raise OSError(f"`pip download {source.wheel}` left {len(wheels)} wheels instead of one")
        return u_data_text(movielens_100k_rows_from_wheel(wheels[0])).encode()


def fetch(name: str, directory: Path, timeout: float = 20.0) -> Ratings:
    """Write dataset ``name``'s file into ``directory``: from the official site, else (for
    MovieLens-100K) from the PyPI wheel; then read it back and check its size.

    Args:
        name: a name of :data:`DATASETS`.
        directory: where to write the file (created if needed).
        timeout: seconds to wait for the official site.

    Returns:
        The ratings read back from the written file.

    Raises:
        ValueError: when every source fails (saying which file to put where), or the
            fetched file does not have the dataset's size.

    Example:
        >>> from pathlib import Path
        >>> from amaml.data import DATASETS, fetch
        >>> DATASETS["movielens-100k"].url
        'https://files.grouplens.org/datasets/movielens/ml-100k.zip'
        >>> ratings = fetch("movielens-100k", Path("data/movielens-100k"))  # downloads  # doctest: +SKIP
        >>> ratings.summary()  # doctest: +SKIP
        (100000, 943, 1682)
    """
    source = DATASETS.lookup(name)
    directory = Path(directory)
    attempts = [("the official site", lambda: _official(source, timeout))]
    if source.wheel:
        attempts.append((f"the PyPI wheel {source.wheel}", lambda: _from_wheel(source)))
    failures = []
    for where, get in attempts:
        log.info("%s: fetching from %s", name, where)
        try:
            data = get()
        except (OSError, zipfile.BadZipFile, KeyError, ValueError) as error:
            log.warning("%s: %s failed: %s", name, where, error)
            failures.append(f"{where}: {error}")
            continue
        path = directory / source.filename
        atomic_write_bytes(path, data)
        ratings = source.loader(directory)
        counts = ratings.summary()
        if any(e is not None and e != c for e, c in zip(source.expected, counts)):
            raise ValueError(
                f"{path} holds {counts[0]} ratings, {counts[1]} users, {counts[2]} items; "
                f"expected {source.expected} (None: not checked). The file is not {name}."
            )
        atomic_write_text(directory / "SOURCE.txt", f"{name}: {source.filename} from {where}\n")
        return ratings
    raise ValueError(f"could not fetch {name} ({'; '.join(failures)}). Instead, {where_to_put(name, directory)}.")
