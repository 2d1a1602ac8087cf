"""pymia 0.3.4 module path of :class:`SubsetSequentialSampler`; the samplers live in :mod:`.sampler`."""

from pymia.data.backends.pytorch.sampler import SubsetSequentialSampler

__all__ = ["SubsetSequentialSampler"]
