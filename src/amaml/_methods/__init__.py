"""Meta-gradient methods: one abstract base, one small final class each."""

from ._base import AbstractMetaMethod as AbstractMetaMethod
from .adjoint import AdjointMAML as AdjointMAML
from .discrete import DiscreteAdjoint as DiscreteAdjoint
from .first_order import FOMAML as FOMAML
from .first_order import Reptile as Reptile
from .imaml import IMAML as IMAML
from .maml import MAML as MAML
