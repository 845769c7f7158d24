"""Omniglot (Lake et al. 2015) from its official zips, their extracted folders or an npz form.

Nothing is unpickled or executed; a damaged or inconsistent file is one ``ValueError`` naming it.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import zipfile
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np
from jaxtyping import Int, Shaped, UInt8
from PIL import Image

from .._io import atomic_write_bytes

log = logging.getLogger("amaml")

SETS = ("background", "evaluation")
URL = "https://github.com/brendenlake/omniglot/raw/master/python/images_{}.zip"
DRAWINGS, SIDE = 20, 105
_MEMBER = re.compile(r"(?P<alphabet>[^/]+)/character(?P<nn>\d+)/(?P<id>\d{4})_(?P<dd>\d{2})\.png")
_ERRORS = (OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError, ValueError)
_CACHE_FORMAT = 1


class OmniglotImages(NamedTuple):
    """Omniglot characters with their 20 drawings each, resized, ink = 255, ordered by character ID.

    Attributes:
        images: uint8 ``(C, 20, size, size)``; ink 255, background 0 (``images / 255`` has ink 1).
        character_ids: the official global character IDs (1-1623), ``(C,)``, increasing.
        alphabets: each character's official alphabet folder name, ``(C,)`` str.
        sets: ``"background"`` or ``"evaluation"``, ``(C,)`` str.
        source_sha256: the files read and their SHA-256 sums, one line for a report header.

    Example:
        :func:`load_omniglot` returns it; a small one by hand:

        >>> import numpy as np
        >>> from amaml.data import OmniglotImages
        >>> images = OmniglotImages(
        ...     np.zeros((2, 20, 28, 28), np.uint8), np.array([1, 2]), np.array(["Alphabet_of_the_Magi"] * 2),
        ...     np.array(["background"] * 2), "made by hand",
        ... )
        >>> images.images.shape, images.character_ids.tolist()
        ((2, 20, 28, 28), [1, 2])
    """

    images: UInt8[np.ndarray, "C 20 S S"]
    character_ids: Int[np.ndarray, " C"]
    alphabets: Shaped[np.ndarray, " C"]
    sets: Shaped[np.ndarray, " C"]
    source_sha256: str


def where_to_put(directory: Path) -> str:
    """Where the official zips come from and where :func:`load_omniglot` looks for them."""
    return (
        f"download {URL.format('background')} and {URL.format('evaluation')} and put them, as they are, "
        f"in {directory} (as {directory / 'images_background.zip'} and {directory / 'images_evaluation.zip'})"
    )


def _index(where: str, names) -> dict[int, tuple[str, list[str]]]:
    """ID -> (alphabet, member names by drawing) of a complete ``<top>/<Alphabet>/characterNN/<ID>_<DD>.png`` tree."""
    found: dict[int, tuple[str, str, dict[int, str]]] = {}
    tops, folders = set(), {}
    for name in names:
        parts = name.split("/")
        if name.endswith("/") or "__MACOSX" in parts or parts[-1].startswith("."):
            continue
        match = _MEMBER.fullmatch("/".join(parts[1:]))
        if match is None:
            raise ValueError(f"{where}: unexpected member {name!r}, not <top>/<Alphabet>/characterNN/<ID>_<DD>.png.")
        tops.add(parts[0])
        ident, drawing, folder = int(match["id"]), int(match["dd"]), (match["alphabet"], match["nn"])
        alphabet, nn, drawings = found.setdefault(ident, (*folder, {}))
        if (alphabet, nn) != folder or folders.setdefault(folder, ident) != ident:
            raise ValueError(f"{where}: character ID {ident} and folder {'/character'.join(folder)} do not match 1:1.")
        if not 1 <= drawing <= DRAWINGS or drawing in drawings:
            raise ValueError(f"{where}: {name!r} is drawing {drawing}: not in 01-20, or a second copy.")
        drawings[drawing] = name
    if len(tops) > 1:
        raise ValueError(f"{where}: expected one top folder, found {sorted(tops)}.")
    for alphabet, nn, drawings in found.values():
        if len(drawings) != DRAWINGS:
            raise ValueError(f"{where}: {alphabet}/character{nn} has {len(drawings)} drawings, not {DRAWINGS}.")
    return {i: (a, [d[k] for k in sorted(d)]) for i, (a, _, d) in sorted(found.items())}


def _png(data: bytes, where: str) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            if image.format != "PNG" or image.size != (SIDE, SIDE):
                raise ValueError(f"a {image.format} image of {image.size[0]} x {image.size[1]}")
            return image.convert("L")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ValueError(f"{where}: not a readable 105 x 105 PNG ({error}).") from None


def _resize(image: Image.Image, size: int) -> np.ndarray:
    """MAML's preprocessing of an "L" image (255 = paper), then ink = 255."""
    return 255 - np.asarray(image.resize((size, size), resample=Image.Resampling.LANCZOS), np.uint8)


def read_tree(path: Path, size: int):
    """``(images, ids, alphabets)`` of an official zip (``images_background.zip`` layout) or its folder."""
    if path.is_dir():
        names = sorted(f"{path.name}/{p.relative_to(path).as_posix()}" for p in path.rglob("*") if p.is_file())
        return _from_tree(str(path), names, lambda name: (path.parent / name).read_bytes(), size)
    try:
        with zipfile.ZipFile(path) as archive:
            return _from_tree(str(path), archive.namelist(), archive.read, size)
    except _ERRORS as error:
        if isinstance(error, ValueError) and str(error).startswith(str(path)):
            raise  # already names the file and the member
        raise ValueError(f"{path}: not a readable zip ({type(error).__name__}: {error}).") from None


def _from_tree(where: str, names: list[str], read, size: int):
    index = _index(where, names)
    images = np.empty((len(index), DRAWINGS, size, size), np.uint8)
    for c, (_, members) in enumerate(index.values()):
        for d, member in enumerate(members):
            images[c, d] = _resize(_png(read(member), f"{where}: {member}"), size)
    return images, list(index), [a for a, _ in index.values()]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sources(data_dir: Path) -> list[tuple[str, str, Path]]:
    """``(set, form, path)`` for each set found: its zip, else its folder, else its npz."""
    found = []
    for s in SETS:
        base = data_dir / f"images_{s}"
        forms = (("zip", base.with_suffix(".zip")), ("folder", base), ("npz", base.with_suffix(".npz")))
        found += [(s, form, p) for form, p in forms if (p.is_dir() if form == "folder" else p.is_file())][:1]
    if any(form == "npz" for _, form, _ in found) and not (data_dir / "alphabets.csv").is_file():
        raise ValueError(f"the npz form in {data_dir} needs alphabets.csv, which is missing.")
    if not found:
        raise ValueError(
            f"{data_dir} holds no Omniglot data. load_omniglot reads, for the background and/or the evaluation set: "
            "the official zip (images_background.zip, images_evaluation.zip), its extracted folder "
            "(images_background/, images_evaluation/), or the npz form (images_background.npz, "
            f"images_evaluation.npz, with alphabets.csv). To get the official zips, {where_to_put(data_dir)}, "
            "or call amaml.data.fetch_omniglot on that directory."
        )
    return found


def _describe(data_dir: Path, sources: list[tuple[str, str, Path]]) -> str:
    parts = []
    for _, form, path in sources:
        if form == "folder":
            files = sorted(p for p in path.rglob("*") if p.is_file())
            manifest = "".join(f"{p.relative_to(path).as_posix()} {_sha256(p.read_bytes())}\n" for p in files)
            parts.append(f"{path.name}/ ({len(files)} files) sha256 of its manifest {_sha256(manifest.encode())}")
        else:
            parts.append(f"{path.name} sha256 {_sha256(path.read_bytes())}")
    if any(form == "npz" for _, form, _ in sources):
        parts.append(f"alphabets.csv sha256 {_sha256((data_dir / 'alphabets.csv').read_bytes())}")
    return "; ".join(parts)


def _read_cache(path: Path, source: str) -> OmniglotImages | None:
    try:
        with np.load(path, allow_pickle=False) as f:
            fields = {name: f[name] for name in OmniglotImages._fields}
        if str(fields.pop("source_sha256")) != source:
            raise ValueError("it was made from other files")
        return OmniglotImages(**fields, source_sha256=source)
    except (*_ERRORS, TypeError) as error:
        log.warning("omniglot: ignoring the unreadable cache %s (%s); rebuilding it", path, error)
        return None


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/amaml/omniglot``, else ``~/.cache/amaml/omniglot``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "amaml" / "omniglot"


def load_omniglot(data_dir: str | Path, *, size: int = 28, cache_dir: str | Path | None = None) -> OmniglotImages:
    """Read Omniglot from ``data_dir``, resized to ``size`` x ``size`` with ink = 255, through a cache.

    For each set (background, evaluation; at least one) it reads the official zip
    ``images_<set>.zip``, else its extracted folder ``images_<set>/``, else ``images_<set>.npz``
    (with ``alphabets.csv`` for the alphabet names). Each drawing is made Pillow "L" (255 =
    paper), resized with ``Image.Resampling.LANCZOS`` as MAML did and stored as ``255 - value``:
    all three forms give bit-identical arrays. The result is cached in ``cache_dir`` as an npz
    keyed by the sources' SHA-256 sums and ``size``.

    Args:
        data_dir: the directory holding the data; nothing is written there.
        size: the side of the resized images, in pixels (MAML: 28).
        cache_dir: where the resized arrays are cached; default :func:`default_cache_dir`.

    Returns:
        :class:`OmniglotImages`, ordered by character ID.

    Raises:
        ValueError: for a directory with none of the forms (listing them and where to put the
            official zips), a bad argument, or a corrupt or inconsistent file (naming it).

    Example:
        >>> load_omniglot("data/omniglot").images.shape  # reads the official zips  # doctest: +SKIP
        (1623, 20, 28, 28)

        An extracted folder with one character of blank drawings (white paper, so no ink):

        >>> import tempfile
        >>> from pathlib import Path
        >>> from PIL import Image
        >>> from amaml.data import load_omniglot
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     folder = Path(tmp) / "data" / "images_background" / "Latin" / "character01"
        ...     folder.mkdir(parents=True)
        ...     for drawing in range(1, 21):
        ...         Image.new("L", (105, 105), 255).save(folder / f"0737_{drawing:02d}.png")
        ...     images = load_omniglot(Path(tmp) / "data", cache_dir=Path(tmp) / "cache")
        >>> images.images.shape, int(images.images.max()), images.alphabets.tolist(), images.sets.tolist()
        ((1, 20, 28, 28), 0, ['Latin'], ['background'])
    """
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
        raise ValueError(f"`size` must be a positive integer, got {size!r}.")
    data_dir, size = Path(data_dir), int(size)
    cache_dir = default_cache_dir() if cache_dir is None else Path(cache_dir)
    if data_dir.exists() and cache_dir.exists() and cache_dir.resolve() == data_dir.resolve():
        raise ValueError(
            f"`cache_dir` must not be the data directory {data_dir}: the cache never goes beside the data."
        )
    sources = _sources(data_dir)
    source = _describe(data_dir, sources)
    cache = cache_dir / f"omniglot-{size}px-{_sha256(f'{_CACHE_FORMAT} {size} {source}'.encode())[:24]}.npz"
    if cache.is_file() and (cached := _read_cache(cache, source)) is not None:
        return cached
    parts, table = [], None
    for s, form, path in sources:
        if form == "npz":
            from ._omniglot_npz import alphabet_table, read_npz  # the npz form imports this module's basics

            table = table or alphabet_table(data_dir / "alphabets.csv")
            images, ids, alphabets = read_npz(path, table[s], size, data_dir / "alphabets.csv")
        else:
            images, ids, alphabets = read_tree(path, size)
        parts.append((images, ids, alphabets, [s] * len(ids)))
    ids = np.asarray([i for p in parts for i in p[1]], np.int64)
    if len(np.unique(ids)) != len(ids):
        raise ValueError(f"{data_dir}: the two sets share character IDs; they are not the official sets.")
    order = np.argsort(ids, kind="stable")
    columns = [np.concatenate([np.asarray(p[k]) for p in parts])[order] for k in (0, 2, 3)]
    result = OmniglotImages(columns[0], ids[order], columns[1].astype(str), columns[2].astype(str), source)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **result._asdict())
    atomic_write_bytes(cache, buffer.getvalue())
    return result
