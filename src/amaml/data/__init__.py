"""Real data for meta collaborative filtering: rating files, item features, user tasks.

Readers: :func:`load_movielens_100k` (``u.data``), :func:`load_movielens_1m`
(``ratings.dat``), :func:`load_jester_1` (``jester-data-1.xls``); they return
:class:`Ratings` and never unpickle or evaluate data. :func:`make_cf_dataset` turns
ratings into a :class:`CFMetaDataset` (one task per user, 100 held-out test users) with
:class:`OneHotItems` or :class:`SVDItems` as the 100-dimensional input.
"""

from ._baselines import BASELINES as BASELINES
from ._baselines import baseline_nrmse as baseline_nrmse
from ._cf import CFMetaDataset as CFMetaDataset
from ._cf import make_cf_dataset as make_cf_dataset
from ._features import AbstractItemFeatures as AbstractItemFeatures
from ._features import OneHotItems as OneHotItems
from ._features import SVDItems as SVDItems
from ._fetch import DATASETS as DATASETS
from ._fetch import DataSource as DataSource
from ._fetch import fetch as fetch
from ._fetch import load_ratings as load_ratings
from ._jester import load_jester_1 as load_jester_1
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
    "OneHotItems",
    "Ratings",
    "SVDItems",
    "WHEEL_MEMBER",
    "baseline_nrmse",
    "fetch",
    "load_jester_1",
    "load_ratings",
    "load_movielens_100k",
    "load_movielens_1m",
    "make_cf_dataset",
    "movielens_100k_rows_from_wheel",
    "u_data_text",
]
