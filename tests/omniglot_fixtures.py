"""A tiny Omniglot in the npz form (random strokes), written by the tests that need one."""

from pathlib import Path

import numpy as np


def write_tiny_omniglot(directory: Path, characters: int = 9, seed: int = 0) -> Path:
    """``images_background.npz`` (bool, True = paper) and ``alphabets.csv`` with two alphabets."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    images = np.ones((characters, 20, 105, 105), bool)
    for c in range(characters):  # a character-specific blob of ink, jittered per drawing
        row, col = rng.integers(20, 70, 2)
        for d in range(20):
            dr, dc = rng.integers(-4, 5, 2)
            images[c, d, row + dr : row + dr + 30, col + dc : col + dc + 12] = False
    labels = np.repeat(np.arange(characters)[:, None], 20, axis=1)
    np.savez(directory / "images_background.npz", images=images, labels=labels)
    half = characters // 2
    (directory / "alphabets.csv").write_text(
        "set,alphabet,first_id,last_id,characters\n"
        f"background,Alpha,1,{half},{half}\n"
        f"background,Beta,{half + 1},{characters},{characters - half}\n"
    )
    return directory
