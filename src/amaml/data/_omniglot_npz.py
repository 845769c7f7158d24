"""Omniglot's npz form: bool arrays per set, with ``alphabets.csv`` naming each set's ID ranges."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image

from . import _omniglot
from ._omniglot import _ERRORS, DRAWINGS, SETS, SIDE

CSV_HEADER = ["set", "alphabet", "first_id", "last_id", "characters"]


def alphabet_table(path: Path) -> dict[str, list[tuple[str, int, int]]]:
    """Set -> [(alphabet, first_id, last_id)] from ``alphabets.csv``, checked for contiguous ranges."""
    rows, table = list(csv.reader(path.read_text(encoding="utf-8").splitlines())), {s: [] for s in SETS}
    if not rows or rows[0] != CSV_HEADER:
        raise ValueError(f"{path}: expected the header {','.join(CSV_HEADER)}.")
    for number, row in enumerate(rows[1:], start=2):
        try:
            if len(row) != 5 or row[0] not in SETS:
                raise ValueError("expected set (background|evaluation),alphabet,first_id,last_id,characters")
            first, last, count = map(int, row[2:])
            if not 1 <= first <= last or count != last - first + 1:
                raise ValueError(f"the range {first}-{last} does not hold {count} characters")
        except ValueError as error:
            raise ValueError(f"{path}, line {number}: malformed row {','.join(row)!r}: {error}.") from None
        table[row[0]].append((row[1], first, last))
    for ranges in table.values():
        ranges.sort(key=lambda r: r[1])
        for (a, _, last), (b, first, _) in zip(ranges, ranges[1:]):
            if first != last + 1:
                raise ValueError(f"{path}: the ID ranges of {a} and {b} are not contiguous ({last}, then {first}).")
    return table


def read_npz(path: Path, table: list[tuple[str, int, int]], size: int, csv_path: Path):
    """``(images, ids, alphabets)`` of the npz form: ``images`` bool (N, 20, 105, 105), True = paper,
    ``labels`` (N, 20); row ``c`` is character ``first_id + c`` of the set's ``table`` rows."""
    try:
        with np.load(path, allow_pickle=False) as f:
            if missing := {"images", "labels"} - set(f.files):
                raise ValueError(f"the array(s) {sorted(missing)} are missing (it has {sorted(f.files)})")
            images, labels = f["images"], f["labels"]
    except _ERRORS as error:
        raise ValueError(f"{path}: not a readable Omniglot npz ({error}).") from None
    n, covered = len(images), table[-1][2] - table[0][1] + 1 if table else 0
    if images.dtype != np.bool_ or images.shape[1:] != (DRAWINGS, SIDE, SIDE):
        raise ValueError(f"{path}: `images` is {images.dtype} {images.shape}, expected bool (N, 20, 105, 105).")
    if labels.shape != (n, DRAWINGS) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{path}: `labels` is {labels.dtype} {labels.shape}, expected integers ({n}, 20).")
    if covered != n:
        raise ValueError(f"{path} holds {n} characters but the ID ranges of its set in {csv_path} cover {covered}.")
    out = np.empty((n, DRAWINGS, size, size), np.uint8)
    for c in range(n):
        for d in range(DRAWINGS):  # the "L" image a PNG of this drawing converts to: 255 = paper, 0 = ink
            out[c, d] = _omniglot._resize(Image.fromarray(images[c, d].astype(np.uint8) * np.uint8(255)), size)
    return out, list(range(table[0][1], table[0][1] + n)), [a for a, lo, hi in table for _ in range(lo, hi + 1)]
