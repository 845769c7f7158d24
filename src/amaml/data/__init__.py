"""Real data for meta collaborative filtering: rating files, item features, user tasks.

Readers: :func:`load_movielens_100k` (``u.data``), :func:`load_movielens_1m`
(``ratings.dat``), :func:`load_jester_1` (``jester-data-1.xls``); they return
:class:`Ratings` and never unpickle or evaluate data. :func:`make_cf_dataset` turns
ratings into a :class:`CFMetaDataset` (one task per user, 100 held-out test users) with
:class:`OneHotItems` or :class:`SVDItems` as the 100-dimensional input.

Omniglot: :func:`load_omniglot` reads the official zips, their folders or the npz form into
:class:`OmniglotImages` (28 x 28 Lanczos, ink 255, cached); :func:`fetch_omniglot` downloads
the zips; :func:`omniglot_split` splits the characters (MAML's or Vinyals'); and
:func:`sample_episodes` / :func:`omniglot_test_episodes` draw N-way K-shot episodes.
"""

from ._baselines import BASELINES as BASELINES
from ._baselines import baseline_nrmse as baseline_nrmse
from ._cf import CFMetaDataset as CFMetaDataset
from ._cf import make_cf_dataset as make_cf_dataset
from ._episodes import VINYALS_TEST as VINYALS_TEST
from ._episodes import VINYALS_TRAIN as VINYALS_TRAIN
from ._episodes import VINYALS_VAL as VINYALS_VAL
from ._episodes import OmniglotSplit as OmniglotSplit
from ._episodes import omniglot_split as omniglot_split
from ._episodes import omniglot_test_episodes as omniglot_test_episodes
from ._episodes import sample_episodes as sample_episodes
from ._features import AbstractItemFeatures as AbstractItemFeatures
from ._features import OneHotItems as OneHotItems
from ._features import SVDItems as SVDItems
from ._fetch import DATASETS as DATASETS
from ._fetch import DataSource as DataSource
from ._fetch import fetch as fetch
from ._fetch import load_ratings as load_ratings
from ._jester import load_jester_1 as load_jester_1
from ._omniglot import OmniglotImages as OmniglotImages
from ._omniglot import load_omniglot as load_omniglot
from ._omniglot_fetch import fetch_omniglot as fetch_omniglot
from ._ratings import Ratings as Ratings
from ._ratings import load_movielens_1m as load_movielens_1m
from ._ratings import load_movielens_100k as load_movielens_100k
from ._wheel import WHEEL_MEMBER as WHEEL_MEMBER
from ._wheel import movielens_100k_rows_from_wheel as movielens_100k_rows_from_wheel
from ._wheel import u_data_text as u_data_text

__all__ = [
    "BASELINES",
    "DATASETS",
    "AbstractItemFeatures",
    "CFMetaDataset",
    "DataSource",
    "OmniglotImages",
    "OmniglotSplit",
    "OneHotItems",
    "Ratings",
    "SVDItems",
    "VINYALS_TEST",
    "VINYALS_TRAIN",
    "VINYALS_VAL",
    "WHEEL_MEMBER",
    "baseline_nrmse",
    "fetch",
    "fetch_omniglot",
    "load_jester_1",
    "load_ratings",
    "load_movielens_100k",
    "load_movielens_1m",
    "load_omniglot",
    "make_cf_dataset",
    "omniglot_split",
    "omniglot_test_episodes",
    "sample_episodes",
    "movielens_100k_rows_from_wheel",
    "u_data_text",
]
