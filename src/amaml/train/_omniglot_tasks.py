"""Few-shot classification episodes of Omniglot as a run's task source."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal, final

import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from .. import _validate, losses
from .._fields import option
from .._task import Task
from ..data import load_omniglot, omniglot_split, sample_episodes
from ..tasks import AbstractMetaDataset
from ._sources import AbstractTaskSource

SPLITS = ("maml", "alphabet")
FORMS = tuple(f"images_{s}{suffix}" for s in ("background", "evaluation") for suffix in (".zip", "", ".npz"))
SPLIT_SEED = 0  # the character split is fixed, whatever the run's seed (as MAML's fixed shuffle)


@final
@dataclasses.dataclass(frozen=True)
class OmniglotEpisodes(AbstractMetaDataset):
    """N-way K-shot episodes drawn from the meta-train characters; test episodes from the meta-test ones.

    Attributes:
        train, test: uint8 images ``(characters, 20, size, size)`` (ink 255) of each split.
        ways, test_queries, rotate, n_test: the episode protocol (see :class:`OmniglotTasks`); training
            episodes take their query count from the caller (the run's ``tasks.queries``).
        test_key: the key the ``n_test`` test episodes are drawn from (fixed per run).
        dtype: the float dtype of the images handed to the model.

    Example:
        >>> images = jnp.zeros((6, 20, 8, 8), jnp.uint8)  # 6 characters of 20 drawings, 8 x 8
        >>> episodes = OmniglotEpisodes(images, images, 3, 2, False, 4, jax.random.key(1), jnp.float32)
        >>> episodes.sample(jax.random.key(0), 2, 1, 1).support_x.shape  # 2 episodes, 3-way 1-shot
        (2, 3, 8, 8, 1)
        >>> episodes.test_tasks(1).query_x.shape  # 4 test episodes, 2 queries per class
        (4, 6, 8, 8, 1)
    """

    train: Array
    test: Array
    ways: int
    test_queries: int
    rotate: bool
    n_test: int
    test_key: PRNGKeyArray
    dtype: object

    def sample(self, key: PRNGKeyArray, batch: int, shots: int, queries: int) -> Task:
        """``batch`` training episodes of ``ways`` classes (:func:`amaml.data.sample_episodes`); jittable.

        Args:
            key: the PRNG key of the episodes.
            batch: episodes in the meta-batch.
            shots: support drawings per class.
            queries: query drawings per class (the run's ``tasks.queries``).

        Returns:
            The episodes: ``support_x`` ``(batch, ways * shots, size, size, 1)`` in ``[0, 1]``, ``support_y``
            int32 labels ``(batch, ways * shots)``, the query set likewise with ``ways * queries``.

        Raises:
            ValueError, TypeError: when ``shots + queries`` exceeds the 20 drawings, or another bad argument.
        """
        return sample_episodes(self.train, key, batch, self.ways, shots, queries, self.rotate, dtype=self.dtype)

    def test_tasks(self, shots: int) -> Task:
        """The ``n_test`` test episodes drawn from ``test_key``: the same episodes on every call.

        Args:
            shots: support drawings per class.

        Returns:
            ``n_test`` episodes of the meta-test characters, as :meth:`sample`'s with ``test_queries``
            query drawings per class.

        Raises:
            ValueError, TypeError: when ``shots + test_queries`` exceeds the 20 drawings, or another bad argument.
        """
        sizes = (self.n_test, self.ways, shots, self.test_queries, self.rotate)
        return sample_episodes(self.test, self.test_key, *sizes, dtype=self.dtype)  # compiled once per shape


@final
@dataclasses.dataclass(frozen=True)
class OmniglotTasks(AbstractTaskSource):
    """Omniglot N-way K-shot classification (Lake et al. 2015), MAML's protocol by default.

    Characters are split into meta-train, meta-validation and meta-test once, with a fixed
    seed (``split="maml"``: 1,100 / 100 / 423 characters shuffled, as MAML; ``"alphabet"``:
    whole alphabets, after Vinyals et al.); with ``rotate`` every character's rotations by
    90, 180 and 270 degrees are classes of their own. An episode draws ``ways`` classes and,
    per class, ``shots`` support and ``queries`` query drawings, labels in random order;
    images are 28 x 28 (Lanczos, as MAML), ink 1. The loss is the softmax cross-entropy.

    Args:
        data_dir: the directory holding the official zips, their folders, or the npz form
            (``amaml data fetch omniglot`` writes the zips; default ``data/omniglot``).
        ways, shots, queries: N, K and the query drawings per class of a training episode
            (``shots + queries <= 20``; MAML's protocol uses ``queries = shots``).
        test_queries: query drawings per class of a test episode (default: ``queries``; 15 is
            the common choice, giving 75 or 300 queries per 5- or 20-way episode).
        split: ``"maml"`` or ``"alphabet"``.
        rotate: whether rotated characters are new classes.
        n_test: test episodes for evaluation (600, as MAML).
        size: image side after resizing.

    Raises:
        TypeError, ValueError: for an invalid option, naming it (checked on construction; the
            data directory is checked by ``check`` and read by ``build``).

    Example:
        >>> source = OmniglotTasks(data_dir="data/omniglot", ways=20, shots=1)
        >>> source.name, source.output_dim, source.episode_queries()
        ('omniglot-20w1s', 20, 15)
        >>> dataset = source.build(jax.random.key(0), jnp.float32)  # reads Omniglot from disk  # doctest: +SKIP

    References:
        Lake et al., "Human-level concept learning through probabilistic program induction",
        Science 2015 (Omniglot); Finn et al., "Model-Agnostic Meta-Learning for Fast
        Adaptation of Deep Networks", ICML 2017 (the split and protocol); Vinyals et al.,
        "Matching Networks for One Shot Learning", NeurIPS 2016 (the alphabet split).
    """

    data_dir: str | None = option(None, doc="directory with the official zips, their folders or the npz form")
    ways: int = option(5, doc="classes per episode (N-way)")
    shots: int = option(1, doc="support drawings per class (K-shot)")
    queries: int = option(15, doc="query drawings per class of a training episode (shots + queries <= 20)")
    test_queries: int | None = option(None, doc="query drawings per class of a test episode (default: queries)")
    split: Literal["maml", "alphabet"] = option("maml", doc="character split: maml (1100/100/423 shuffled) or alphabet")
    rotate: bool = option(True, doc="rotations by 90/180/270 degrees are new classes (MAML)")
    n_test: int = option(600, doc="test episodes of an evaluation (600, as MAML)")
    size: int = option(28, doc="image side after resizing (28, as MAML)")

    def __post_init__(self) -> None:
        if self.data_dir is not None and not isinstance(self.data_dir, str):
            raise TypeError(f"`data_dir` must be a path string, got {self.data_dir!r}.")
        for name in ("ways", "shots", "queries", "n_test", "size"):
            _validate.positive_int(name, getattr(self, name))
        if self.ways < 2:
            raise ValueError(f"`ways` must be at least 2 (an episode classifies), got {self.ways}.")
        if self.test_queries is not None:
            _validate.positive_int("test_queries", self.test_queries)
        for name in ("queries", "test_queries"):
            if self.shots + self.episode_queries(name) > 20:
                raise ValueError(
                    f"`shots` + `{name}` ({self.shots} + {self.episode_queries(name)}) must not exceed 20, "
                    "the drawings per character."
                )
        if self.split not in SPLITS:
            raise ValueError(f"`split` must be one of {', '.join(SPLITS)}, got {self.split!r}.")
        if not isinstance(self.rotate, bool):
            raise TypeError(f"`rotate` must be true or false, got {self.rotate!r}.")

    def episode_queries(self, name: str = "test_queries") -> int:
        """Query drawings per class of a training (``"queries"``) or test (``"test_queries"``) episode.

        Args:
            name: ``"queries"`` or ``"test_queries"`` (the default).

        Returns:
            That option's value; ``test_queries = None`` gives ``queries``.
        """
        value = getattr(self, name)
        return self.queries if value is None else value

    @property
    def directory(self) -> Path:
        """Where the images are read from."""
        return Path(self.data_dir if self.data_dir is not None else "data/omniglot")

    @property
    def input_dim(self) -> int:
        return 1  # grey-scale channels

    @property
    def output_dim(self) -> int:
        return self.ways

    @property
    def name(self) -> str:
        return f"omniglot-{self.ways}w{self.shots}s"

    def check(self, meta_batch: int) -> None:
        """The data directory must hold the images in one of their forms (zips, folders or npz).

        Args:
            meta_batch: the run's tasks per meta-update (not used: episodes may share classes).

        Raises:
            ValueError: when ``directory`` holds none of them, saying how to fetch them.
        """
        if not any((self.directory / form).exists() for form in FORMS):
            raise ValueError(
                f"omniglot: {self.directory} holds none of {', '.join(FORMS)}; run `amaml data fetch omniglot "
                f"--dir {self.directory}` or put the official images_background.zip and images_evaluation.zip "
                f"there (or pass tasks.data_dir)."
            )

    def build(self, key: PRNGKeyArray, dtype) -> OmniglotEpisodes:
        """Read and split the characters; the test episodes' key is derived from ``key``.

        Args:
            key: the PRNG key of the test episodes (``fold_in(key, 1)``); the split's seed is fixed.
            dtype: the float dtype of the images handed to the model.

        Returns:
            :class:`OmniglotEpisodes` of the meta-train and meta-test characters.

        Raises:
            ValueError: when the images cannot be read, or ``ways`` exceeds the meta-test classes.
        """
        split = omniglot_split(load_omniglot(self.directory, size=self.size), self.split, seed=SPLIT_SEED)
        classes = len(split.test) * (4 if self.rotate else 1)
        if classes < self.ways:
            raise ValueError(f"`ways` ({self.ways}) exceeds the {classes} meta-test classes of {self.directory}.")
        return OmniglotEpisodes(
            jnp.asarray(split.train),
            jnp.asarray(split.test),
            self.ways,
            self.episode_queries(),
            self.rotate,
            self.n_test,
            jax.random.fold_in(key, 1),
            dtype,
        )

    def loss(self, apply_fn) -> losses.LossFn:
        """Softmax cross-entropy with integer labels (:func:`amaml.losses.cross_entropy`).

        Args:
            apply_fn: the model, ``apply_fn(params, x) -> (n, ways)`` logits.

        Returns:
            ``loss_fn(params, x, y)``, the mean cross-entropy of the logits against the labels ``y`` ``(n,)``.
        """
        return losses.cross_entropy(apply_fn)

    def test_metric(self) -> None:
        """Nothing: an unadapted classifier scores chance on episodes with shuffled labels."""
        return None
