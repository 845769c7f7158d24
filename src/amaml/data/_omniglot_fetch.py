"""Downloading Omniglot's two official zips, each checked before it is kept."""

from __future__ import annotations

import http.client
import io
import urllib.request
import zipfile
from pathlib import Path

from .._io import atomic_write_bytes
from ._omniglot import _ERRORS, SETS, URL, _index, where_to_put

EXPECTED_CHARACTERS = {"background": 964, "evaluation": 659}  # character folders of the official zips


def _download(url: str, timeout: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (a fixed https URL)
        return response.read()


def _check_zip(data: bytes, where: Path, s: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            count = len(_index(str(where), archive.namelist()))
    except _ERRORS as error:
        raise ValueError(f"{where}: not a readable Omniglot zip ({error}).") from None
    if count != EXPECTED_CHARACTERS[s]:
        raise ValueError(f"{where} holds {count} characters, expected {EXPECTED_CHARACTERS[s]}: not the official zip.")


def fetch_omniglot(directory: str | Path, *, timeout: float = 60.0) -> Path:
    """Download the official ``images_background.zip`` and ``images_evaluation.zip`` into ``directory``.

    Each zip is checked (the official layout, 964 or 659 character folders) before it is
    written atomically; a zip already in place is checked and kept.

    Args:
        directory: where to put the zips (created if needed); pass it to :func:`load_omniglot`.
        timeout: seconds to wait for the server.

    Returns:
        ``directory``, as a ``Path``.

    Raises:
        ValueError: when a download fails (saying which two files to get from where and where
            to put them), or a zip is not the official one.

    Example:
        >>> images = load_omniglot(fetch_omniglot("data/omniglot"))  # downloads 2 zips  # doctest: +SKIP

        A zip already in place is checked, not replaced:

        >>> import tempfile
        >>> from pathlib import Path
        >>> from amaml.data import fetch_omniglot
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = (Path(tmp) / "images_background.zip").write_bytes(b"not a zip")
        ...     fetch_omniglot(tmp)
        Traceback (most recent call last):
        ValueError: ...images_background.zip: not a readable Omniglot zip (File is not a zip file).
    """
    directory = Path(directory)
    for s in SETS:
        path = directory / f"images_{s}.zip"
        if path.is_file():
            _check_zip(path.read_bytes(), path, s)
            continue
        try:
            data = _download(URL.format(s), timeout)
        except (OSError, http.client.HTTPException, ValueError) as error:
            raise ValueError(
                f"could not download {URL.format(s)} ({error}). Instead, {where_to_put(directory)}."
            ) from None
        _check_zip(data, path, s)
        atomic_write_bytes(path, data)
    return directory
