"""The map-style PyTorch ``Dataset`` over a pymia datasource (0.3.4 name: ``PytorchDatasetAdapter``).

It holds only the datasource (which opens its HDF5 file lazily in each process and drops the
handle when pickled), so it works with ``num_workers > 0`` under fork, spawn and forkserver. Batches
are read with the datasource's batched ``__getitems__``; arrays become tensors without copies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from pymia.data.augmentation.seeding import reseed_transforms
from pymia.data.backends.inputs import check_datasource
from pymia.data.backends.pytorch.collate import sample_to_tensors
from pymia.errors import InvalidInputError

__all__ = ["PytorchDatasetAdapter", "as_adapter"]


class PytorchDatasetAdapter(Dataset):
    """Wrap a :class:`~pymia.data.extraction.PymiaDatasource` as a ``torch.utils.data.Dataset``.

    Parameters
    ----------
    datasource : PymiaDatasource
        Any object with ``__len__`` and ``__getitem__`` returning sample dictionaries; its batched
        ``__getitems__(indices)`` is used when present.
    transform : callable, optional
        Applied to each sample dictionary (NumPy arrays) after extraction, e.g. augmentation from
        :mod:`pymia.data.augmentation`.
    seed : int, optional
        If given, every :class:`~pymia.data.augmentation.RandomTransform` in ``transform`` is
        reseeded from ``(seed, epoch, sample_index)`` before each sample (with
        :func:`pymia.data.augmentation.reseed_transforms`): a sample is augmented the same way
        whichever worker or rank reads it, so ``num_workers=0`` and ``num_workers=2`` give identical
        batches. Call :meth:`set_epoch` before each epoch for new draws.

    Notes
    -----
    ``dataset[i]`` returns the sample dictionary with numeric arrays as tensors (e.g. ``'images'``
    (Y, X, C) float32 for an axial slice; shapes follow the datasource, channel last); other
    entries are unchanged. Use :func:`~pymia.data.backends.pytorch.collate_samples` as
    ``collate_fn`` to keep metadata such as the subject name and the index expression next to the
    batch (``torch``'s default collate rejects :class:`~pymia.data.indexexpression.IndexExpression`).

    The epoch lives in shared memory, so :meth:`set_epoch` reaches workers started with
    ``persistent_workers=True`` as well; call it before iterating over the loader. It is also
    forwarded to the datasource's ``set_epoch`` in every process (random patch sampling draws new
    positions per epoch).
    """

    def __init__(self, datasource: Any, transform: Any = None, *, seed: int | None = None) -> None:
        check_datasource(datasource)
        if transform is not None and not callable(transform):
            raise InvalidInputError(f"transform must be callable (sample dict -> dict), got {transform!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise InvalidInputError(f"seed must be a non-negative int or None, got {seed!r}")
        self.datasource = datasource
        self.transform = transform
        self.seed = None if seed is None else int(seed)
        self._epoch = torch.zeros((), dtype=torch.int64).share_memory_()
        self._datasource_epoch: int | None = None  # the epoch last forwarded to the datasource in this process

    @property
    def epoch(self) -> int:
        """The epoch mixed into the per-sample seeds."""
        return int(self._epoch)

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch mixed into the per-sample seeds (also in running workers)."""
        if epoch < 0:
            raise InvalidInputError(f"epoch must be >= 0, got {epoch}")
        self._epoch.fill_(int(epoch))

    def __len__(self) -> int:
        return len(self.datasource)

    def _sync_epoch(self) -> int:
        epoch = self.epoch
        if epoch != self._datasource_epoch:
            set_epoch = getattr(self.datasource, "set_epoch", None)
            if set_epoch is not None:
                set_epoch(epoch)
            self._datasource_epoch = epoch
        return epoch

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_datasource_epoch"] = None  # a new process forwards the epoch again
        return state

    def _finish(self, index: int, epoch: int, sample: dict) -> dict:
        if self.transform is not None:
            if self.seed is not None:
                reseed_transforms(self.transform, (self.seed, epoch, index))
            sample = self.transform(sample)
        return sample_to_tensors(sample)

    def __getitem__(self, index: int) -> dict:
        index = int(index)
        epoch = self._sync_epoch()
        return self._finish(index, epoch, self.datasource[index])

    def __getitems__(self, indices: Sequence[int]) -> list[dict]:
        """Read a batch of samples in one call of the datasource's ``__getitems__`` (PyTorch ≥ 2.0 uses it)."""
        indices = [int(i) for i in indices]
        epoch = self._sync_epoch()
        getitems = getattr(self.datasource, "__getitems__", None)
        samples = getitems(indices) if getitems is not None else [self.datasource[i] for i in indices]
        return [self._finish(index, epoch, sample) for index, sample in zip(indices, samples)]


def as_adapter(datasource: Any, transform: Any = None, seed: int | None = None) -> PytorchDatasetAdapter:
    """The :class:`PytorchDatasetAdapter` of a loader factory: ``datasource`` itself if it is one (then
    ``transform`` must be ``None``: the adapter has its own), else a new adapter with ``transform`` and ``seed``."""
    if isinstance(datasource, PytorchDatasetAdapter):
        if transform is not None:
            raise InvalidInputError(
                "transform was given with a PytorchDatasetAdapter, which has its own; pass the transform to the "
                "adapter, or pass the datasource here"
            )
        return datasource
    return PytorchDatasetAdapter(datasource, transform, seed=seed)
