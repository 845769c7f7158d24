"""Omniglot in use: splitting the characters, sampling N-way K-shot episodes (the download: _omniglot_fetch)."""

from __future__ import annotations

import functools
import operator
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Int, PRNGKeyArray, UInt8

from .. import _validate
from .._task import Task
from ._omniglot import OmniglotImages

MAML_SIZES = (1100, 100, 1623)  # MAML's meta-train and meta-validation characters, of all 1623
# Vinyals et al. (2016)'s split as published with Snell et al. (2017) (prototypical-networks, data/omniglot/
# splits/vinyals/{train,val,test}.txt, every character with its 4 rotations): whole alphabets, except that
# Gurmukhi's characters 01-41 (IDs 1160-1200) are meta-train and 42-45 (IDs 1201-1204) meta-test.
VINYALS_TRAIN = (  # 25 background and 7 evaluation alphabets, and Gurmukhi 01-41: 1028 characters
    *("Alphabet_of_the_Magi", "Anglo-Saxon_Futhorc", "Arcadian", "Asomtavruli_(Georgian)", "Balinese"),
    *("Blackfoot_(Canadian_Aboriginal_Syllabics)", "Braille", "Burmese_(Myanmar)", "Cyrillic", "Futurama"),
    *("Grantha", "Greek", "Gujarati", "Inuktitut_(Canadian_Aboriginal_Syllabics)", "Japanese_(hiragana)"),
    *("Japanese_(katakana)", "Korean", "Latin", "Malay_(Jawi_-_Arabic)", "N_Ko"),
    *("Ojibwe_(Canadian_Aboriginal_Syllabics)", "Sanskrit", "Syriac_(Estrangelo)", "Tagalog", "Tifinagh"),
    *("Angelic", "Atemayar_Qelisayer", "Atlantean", "Aurek-Besh", "Avesta", "Ge_ez", "Glagolitic"),
)
"""The meta-train alphabets of Vinyals et al. (2016)'s Omniglot split (with Gurmukhi 01-41)."""
VINYALS_VAL = ("Armenian", "Bengali", "Early_Aramaic", "Hebrew", "Mkhedruli_(Georgian)")  # background: 172
"""The meta-validation alphabets of Vinyals et al. (2016)'s Omniglot split."""
VINYALS_TEST = (  # evaluation alphabets, and Gurmukhi 42-45: 423 characters
    *("Kannada", "Keble", "Malayalam", "Manipuri", "Mongolian", "Old_Church_Slavonic_(Cyrillic)"),
    *("Oriya", "Sylheti", "Syriac_(Serto)", "Tengwar", "Tibetan", "ULOG"),
)
"""The meta-test alphabets of Vinyals et al. (2016)'s Omniglot split (with Gurmukhi 42-45)."""
GURMUKHI_IDS, GURMUKHI_TEST_IDS = range(1160, 1205), range(1201, 1205)
F32 = jnp.float32


class OmniglotSplit(NamedTuple):
    """Disjoint meta-train, meta-validation and meta-test characters.

    Attributes:
        train, val, test: uint8 images ``(characters, 20, size, size)`` of each split (ink 255).
        train_ids, val_ids, test_ids: their official character IDs, in the same order.

    Example:
        >>> import numpy as np
        >>> from amaml.data import OmniglotImages, omniglot_split
        >>> images = OmniglotImages(
        ...     np.zeros((6, 20, 28, 28), np.uint8), np.arange(1, 7), np.array(["Latin"] * 6),
        ...     np.array(["background"] * 6), "made by hand",
        ... )
        >>> split = omniglot_split(images, "maml", seed=0)
        >>> split.train.shape, len(split.val_ids), len(split.test_ids)
        ((4, 20, 28, 28), 1, 1)
    """

    train: UInt8[np.ndarray, "C1 20 S S"]
    val: UInt8[np.ndarray, "C2 20 S S"]
    test: UInt8[np.ndarray, "C3 20 S S"]
    train_ids: Int[np.ndarray, " C1"]
    val_ids: Int[np.ndarray, " C2"]
    test_ids: Int[np.ndarray, " C3"]


def _vinyals_part(alphabet: str, ident: int) -> int:
    if alphabet == "Gurmukhi":
        if ident not in GURMUKHI_IDS:
            raise ValueError(f"Gurmukhi character ID {ident} is not an official one (1160-1204): cannot split it.")
        return 2 if ident in GURMUKHI_TEST_IDS else 0
    for part, names in enumerate((VINYALS_TRAIN, VINYALS_VAL, VINYALS_TEST)):
        if alphabet in names:
            return part
    raise ValueError(f"`images` holds the alphabet {alphabet!r}, which is not one of Omniglot's 50.")


def omniglot_split(images: OmniglotImages, protocol: str = "maml", seed: int = 0) -> OmniglotSplit:
    """Split the characters of ``images`` into meta-train, meta-validation and meta-test.

    ``"maml"`` (Finn et al. 2017): the characters are shuffled with
    ``numpy.random.default_rng(seed)``; the first 1100 are meta-train, the next 100
    meta-validation, the other 423 meta-test. With fewer than 1623 characters (at least 3) the
    same proportions are taken, rounded, with at least one character in each split.
    ``"alphabet"``: Vinyals et al. (2016)'s split, as published with Snell et al. (2017):
    1028 / 172 / 423 characters, whole alphabets except Gurmukhi (characters 01-41 meta-train,
    42-45 meta-test; see :data:`VINYALS_TRAIN`, :data:`VINYALS_VAL`, :data:`VINYALS_TEST`),
    ordered by ID; ``seed`` is unused and a split with no characters in ``images`` is empty.

    Args:
        images: from :func:`load_omniglot`.
        protocol: ``"maml"`` or ``"alphabet"``.
        seed: the shuffle of ``"maml"``.

    Returns:
        :class:`OmniglotSplit`.

    Raises:
        ValueError: for an unknown protocol, fewer than 3 characters (``"maml"``), or an
            alphabet or Gurmukhi ID outside the official ones (``"alphabet"``).

    Example:
        >>> split = omniglot_split(load_omniglot("data/omniglot"), "maml", seed=0)  # reads Omniglot  # doctest: +SKIP
        >>> len(split.train), len(split.val), len(split.test)  # doctest: +SKIP
        (1100, 100, 423)

        The same proportions on three hand-made Latin characters, and Vinyals' split, which
        puts all of Latin in meta-train:

        >>> import numpy as np
        >>> from amaml.data import OmniglotImages, omniglot_split
        >>> images = OmniglotImages(
        ...     np.zeros((3, 20, 28, 28), np.uint8), np.array([737, 738, 739]), np.array(["Latin"] * 3),
        ...     np.array(["background"] * 3), "made by hand",
        ... )
        >>> split = omniglot_split(images, "maml")
        >>> len(split.train), len(split.val), len(split.test)
        (1, 1, 1)
        >>> omniglot_split(images, "alphabet").train_ids.tolist()
        [737, 738, 739]
    """
    ids, n = np.asarray(images.character_ids), len(images.character_ids)
    if protocol == "maml":
        if n < 3:
            raise ValueError(f"the maml split needs at least 3 characters, one per split; `images` has {n}.")
        order = np.random.default_rng(seed).permutation(n)
        n_val = max(1, round(n * MAML_SIZES[1] / MAML_SIZES[2]))
        n_train = min(max(1, round(n * MAML_SIZES[0] / MAML_SIZES[2])), n - n_val - 1)
        parts = order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :]
    elif protocol == "alphabet":
        where = np.asarray([_vinyals_part(str(a), int(i)) for a, i in zip(images.alphabets, ids)], np.int64)
        parts = tuple(np.flatnonzero(where == part) for part in range(3))
    else:
        raise ValueError(f"`protocol` must be 'maml' or 'alphabet', got {protocol!r}.")
    stored = np.asarray(images.images)
    return OmniglotSplit(*(stored[p] for p in parts), *(ids[p] for p in parts))


def _check_episodes(characters, batch, ways, shots, queries, rotate, dtype) -> None:
    shape = getattr(characters, "shape", None)
    if shape is None or len(shape) != 4 or characters.dtype != jnp.uint8:
        raise ValueError(f"`characters` must be uint8 (C, 20, H, W), got {getattr(characters, 'dtype', None)} {shape}.")
    for name, value in (("batch", batch), ("ways", ways), ("shots", shots), ("queries", queries)):
        _validate.positive_int(name, value)
    if not isinstance(rotate, bool):
        raise TypeError(f"`rotate` must be True or False, got {rotate!r}.")
    classes = shape[0] * (4 if rotate else 1)
    if ways > classes:
        raise ValueError(f"`ways` ({ways}) exceeds the {classes} classes of `characters`{' with rotations' * rotate}.")
    if shots + queries > shape[1]:
        raise ValueError(f"`shots` + `queries` ({shots} + {queries}) exceeds the {shape[1]} drawings per character.")
    if rotate and shape[2] != shape[3]:
        raise ValueError(f"`rotate` needs square images, got {shape[2]} x {shape[3]}.")
    if not jnp.issubdtype(dtype, jnp.floating) or jnp.zeros((), dtype).dtype != jnp.dtype(dtype):
        raise ValueError(f"`dtype` must be a floating dtype JAX can hold (float64 needs x64 enabled), got {dtype!r}.")


def _episode(characters, key, ways: int, shots: int, queries: int, rotate: bool, dtype) -> Task:
    """One task: ``ways`` distinct classes (labels 0..ways-1 in the order drawn, which is random)
    with ``shots + queries`` distinct drawings each, class-major."""
    n, (_, drawings, height, width) = shots + queries, characters.shape
    # the top entries of iid random bits: a uniform sample without replacement, in uniformly random order
    pool = characters.shape[0] * (4 if rotate else 1)
    # one call (threefry is slow to compile); uint32 always, so the episodes do not change with x64
    bits = jax.random.bits(key, (pool + ways * drawings,), jnp.uint32)
    classes = jax.lax.top_k(bits[:pool], ways)[1]
    picks = jax.lax.top_k(bits[pool:].reshape(ways, drawings), n)[1]  # (ways, n)
    chosen = characters[(classes // 4 if rotate else classes)[:, None], picks]  # (ways, n, H, W)
    if rotate:  # class c is character c // 4 turned by (c % 4) * 90 degrees
        turned = jnp.stack([jnp.rot90(chosen, k, axes=(-2, -1)) for k in range(4)], axis=1)
        chosen = turned[jnp.arange(ways), classes % 4]
    levels = jnp.asarray((np.arange(256) / 255).astype(dtype))  # uint8 / 255, correctly rounded (XLA's x / 255 is not)
    as_float = lambda x: levels[x.reshape(-1, height, width, 1)]
    labels = lambda m: jnp.repeat(jnp.arange(ways, dtype=jnp.int32), m)
    return Task(as_float(chosen[:, :shots]), labels(shots), as_float(chosen[:, shots:]), labels(queries))


@functools.partial(jax.jit, static_argnames=("ways", "shots", "queries", "rotate", "dtype"))
def _episodes(characters, keys, ways: int, shots: int, queries: int, rotate: bool, dtype) -> Task:
    return jax.vmap(lambda k: _episode(characters, k, ways, shots, queries, rotate, dtype))(keys)


def sample_episodes(
    characters: Array, key: PRNGKeyArray, batch: int, ways: int, shots: int, queries: int, rotate=True, *, dtype=F32
) -> Task:
    """A batch of N-way K-shot classification episodes of Omniglot characters; pure JAX, jittable.

    Classes are characters, or with ``rotate`` (character, rotation by k * 90 degrees) pairs:
    class ``c`` is character ``c // 4`` turned ``c % 4`` times by ``jnp.rot90``, a class of its
    own as in MAML. Each episode draws ``ways`` distinct classes, labelled 0..ways-1 in a random
    order, and for each class ``shots + queries`` distinct drawings (the first ``shots`` are
    the support set); examples are ordered class-major. Episode ``i`` is drawn from
    ``jax.random.split(key, batch)[i]``.

    Args:
        characters: uint8 ``(C, 20, H, W)``, ink 255 (a split of :func:`omniglot_split`).
        key: a JAX random key.
        batch, ways, shots, queries: episodes, classes per episode, support and query
            drawings per class (static under ``jax.jit``).
        rotate: whether rotations are classes of their own (static).
        dtype: the float dtype of the images (``float32``, or ``float64`` with x64 enabled).

    Returns:
        A :class:`amaml.Task` batch: ``support_x`` ``(batch, ways * shots, H, W, 1)`` = image / 255,
        ``support_y`` int32 ``(batch, ways * shots)``, ``query_x`` ``(batch, ways * queries, H, W, 1)``,
        ``query_y`` int32 ``(batch, ways * queries)``.

    Raises:
        ValueError, TypeError: before tracing, for ``ways`` beyond the classes, ``shots + queries``
            beyond the drawings, or another bad argument.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from amaml.data import sample_episodes
        >>> characters = jnp.zeros((10, 20, 28, 28), jnp.uint8)
        >>> sample_episodes(characters, jax.random.key(0), 4, 5, 1, 15).query_x.shape
        (4, 75, 28, 28, 1)
    """
    _check_episodes(characters, batch, ways, shots, queries, rotate, dtype)
    return _episodes(characters, jax.random.split(key, batch), ways, shots, queries, rotate, jnp.dtype(dtype))


def omniglot_test_episodes(
    characters: Array, seed: int, count: int, ways: int, shots: int, queries: int, rotate=True, *, dtype=F32, chunk=100
) -> Task:
    """``count`` fixed evaluation episodes (600 in MAML): ``sample_episodes(characters,
    jax.random.key(seed), count, ...)``, the same arrays, built ``chunk`` episodes at a time.

    Args:
        characters, ways, shots, queries, rotate, dtype: as :func:`sample_episodes`.
        seed: the integer seed of the episodes.
        count: how many episodes.
        chunk: episodes built at once (bounds the memory of the intermediate arrays).

    Returns:
        A :class:`amaml.Task` batch of ``count`` episodes.

    Raises:
        ValueError, TypeError: as :func:`sample_episodes`.

    Example:
        >>> import jax.numpy as jnp
        >>> from amaml.data import omniglot_test_episodes
        >>> characters = jnp.zeros((10, 20, 28, 28), jnp.uint8)
        >>> tasks = omniglot_test_episodes(characters, 0, count=6, ways=5, shots=1, queries=2, chunk=4)
        >>> tasks.support_x.shape, tasks.query_y.shape
        ((6, 5, 28, 28, 1), (6, 10))
    """
    _check_episodes(characters, count, ways, shots, queries, rotate, dtype)
    chunk, characters = min(_validate.positive_int("chunk", chunk), count), jnp.asarray(characters)
    keys = jax.random.split(jax.random.key(operator.index(seed)), count)
    pieces = []
    for start in range(0, count, chunk):  # the last chunk is padded: one compiled shape serves all
        index = np.minimum(np.arange(start, start + chunk), count - 1)
        part = _episodes(characters, keys[index], ways, shots, queries, rotate, jnp.dtype(dtype))
        pieces.append([np.asarray(a)[: count - start] for a in part])
    return Task(*(jnp.asarray(np.concatenate(arrays)) for arrays in zip(*pieces)))
