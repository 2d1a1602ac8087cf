"""A ``worker_init_fn`` that gives Python's and NumPy's global generators a state per ``DataLoader`` worker.

pymia's own augmentation does not need it: :class:`~pymia.data.backends.pytorch.PytorchDatasetAdapter`
reseeds its transforms per sample with :func:`pymia.data.augmentation.reseed_transforms`. This is for
third-party code in a transform that draws from the global generators.
"""

from __future__ import annotations

import random

import numpy as np
import torch

__all__ = ["seed_worker"]


def seed_worker(worker_id: int) -> None:
    """``worker_init_fn`` that seeds Python's and NumPy's global generators in each ``DataLoader`` worker.

    PyTorch seeds its own generator per worker from the loader's ``generator`` (base seed + worker
    id); this function derives the ``random`` and legacy ``numpy.random`` states from that seed, so
    code using them draws different numbers in every worker, reproducibly when the loader's
    ``generator`` is seeded.

    Parameters
    ----------
    worker_id : int
        Passed by the ``DataLoader``; the worker's seed already includes it.
    """
    worker_seed = torch.initial_seed() % 2**32
    random.seed(worker_seed)
    np.random.seed(worker_seed)  # noqa: NPY002 - seeding the legacy global state is the point here
