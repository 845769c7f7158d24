"""Task families and the fixed-function meta-learning protocol of the paper."""

from ._base import AbstractTaskFamily as AbstractTaskFamily
from ._dataset import AbstractMetaDataset as AbstractMetaDataset
from ._dataset import MetaDataset as MetaDataset
from ._dataset import Standardisation as Standardisation
from ._dataset import make_dataset as make_dataset
from .alpine import Alpine as Alpine
from .cos_mixture import CosMixture as CosMixture
from .sinusoid import Sinusoid as Sinusoid

__all__ = [
    "AbstractMetaDataset",
    "AbstractTaskFamily",
    "Alpine",
    "CosMixture",
    "MetaDataset",
    "Sinusoid",
    "Standardisation",
    "make_dataset",
]
