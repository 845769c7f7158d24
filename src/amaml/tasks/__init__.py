"""Task families: distributions over regression functions, sampled into :class:`amaml.Task` batches."""

from ._base import AbstractTaskFamily as AbstractTaskFamily
from .sinusoid import Sinusoid as Sinusoid

__all__ = ["AbstractTaskFamily", "Sinusoid"]
