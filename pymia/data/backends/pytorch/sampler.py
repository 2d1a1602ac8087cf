"""Samplers: the 0.3.4 ``SubsetSequentialSampler`` and a distributed sampler for evaluation.

PyTorch's ``DistributedSampler`` pads the last round with repeated samples (``drop_last=False``) or
leaves samples out (``drop_last=True``); either is wrong for evaluation. :class:`DistributedEvaluationSampler`
gives each rank a contiguous block so that every sample is read exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Sampler

from pymia.data.backends.sharding import shard_indices
from pymia.errors import InvalidInputError

__all__ = ["DistributedEvaluationSampler", "SeededRandomSampler", "SubsetSequentialSampler", "subjects_of_samples"]


class SubsetSequentialSampler(Sampler[int]):
    """Yield the given sample numbers in the given order (e.g. those kept by ``select_indices``).

    Parameters
    ----------
    indices : sequence of int
        Sample numbers of the dataset.
    """

    def __init__(self, indices: Sequence[int] | np.ndarray) -> None:
        self.indices = [int(i) for i in indices]

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


class SeededRandomSampler(Sampler[int]):
    """A random order per epoch that depends only on ``(seed, epoch)``.

    PyTorch's ``RandomSampler`` draws its order from the loader's generator, which the loader also
    draws worker seeds from, once per epoch without persistent workers and once in all with them:
    the order of epoch 2 then depends on the worker settings. This sampler's order does not.

    Parameters
    ----------
    dataset : Dataset
        The dataset (its length, and its ``epoch`` attribute, see below).
    seed : int
        Seed of the permutations.

    Notes
    -----
    The epoch is the one given to :meth:`set_epoch`; until that is called, it is the dataset's
    ``epoch`` attribute (:meth:`PytorchDatasetAdapter.set_epoch`), so one call per epoch drives
    both the order and the augmentation.
    """

    def __init__(self, dataset: Any, seed: int) -> None:
        self.dataset = dataset
        self.seed = int(seed)
        self._epoch: int | None = None

    def set_epoch(self, epoch: int) -> None:
        """Use ``epoch`` instead of the dataset's epoch for the next orders."""
        self._epoch = int(epoch)

    def __iter__(self) -> Iterator[int]:
        epoch = self._epoch if self._epoch is not None else int(getattr(self.dataset, "epoch", 0))
        order = shard_indices(len(self.dataset), 0, 1, shuffle=True, seed=self.seed, epoch=epoch)
        return iter(order.tolist())

    def __len__(self) -> int:
        return len(self.dataset)


def _distributed_world(num_replicas: int | None, rank: int | None) -> tuple[int, int]:
    if num_replicas is not None and rank is not None:
        return int(num_replicas), int(rank)
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        raise InvalidInputError(
            "num_replicas and rank were not given and torch.distributed is not initialized; call "
            "torch.distributed.init_process_group first (torchrun does) or pass both"
        )
    world = torch.distributed.get_world_size() if num_replicas is None else int(num_replicas)
    this_rank = torch.distributed.get_rank() if rank is None else int(rank)
    return world, this_rank


def subjects_of_samples(dataset: Any) -> np.ndarray | None:
    """Return the subject number of every sample of ``dataset``, or ``None`` if it cannot tell.

    ``dataset`` is a :class:`~pymia.data.extraction.PymiaDatasource` or wraps one as ``.datasource``.
    """
    datasource = getattr(dataset, "datasource", dataset)
    sample_index = getattr(datasource, "sample_index", None)
    if sample_index is None:
        return None
    return np.repeat(sample_index.subject_indices, sample_index.counts)


class DistributedEvaluationSampler(Sampler[int]):
    """Distributed sampler without padding or dropping: every sample is read once, by one rank.

    Rank ``r`` reads a contiguous block of sample numbers; blocks are as equal as possible (they
    differ by at most one sample, or by less than one subject with ``groups``). Use it for validation
    and inference, where PyTorch's ``DistributedSampler`` would count padded samples twice.

    Parameters
    ----------
    dataset : Dataset
        The dataset (only its length is used).
    num_replicas, rank : int, optional
        World size and this process's rank; default from ``torch.distributed``.
    by_subject : bool, optional
        Cut blocks only between subjects, so that each rank reads (and can assemble) whole subjects
        (default ``True``). The subjects are taken from the datasource's sample index (``dataset``
        may be a :class:`PytorchDatasetAdapter` or a :class:`~pymia.data.extraction.PymiaDatasource`);
        without one, blocks are cut anywhere.
    groups : sequence of int, optional
        Explicit group (subject) number of every sample, in sample order; overrides ``by_subject``.

    Notes
    -----
    Ranks may get different numbers of batches: do not call collective operations once per batch in
    the evaluation loop; gather the results after it (e.g. ``torch.distributed.all_gather_object``).
    """

    def __init__(
        self,
        dataset: Any,
        num_replicas: int | None = None,
        rank: int | None = None,
        *,
        by_subject: bool = True,
        groups: Sequence[int] | np.ndarray | None = None,
    ) -> None:
        self.num_replicas, self.rank = _distributed_world(num_replicas, rank)
        if groups is None and by_subject:
            groups = subjects_of_samples(dataset)
        self.indices = shard_indices(len(dataset), self.rank, self.num_replicas, mode="exact", groups=groups)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices.tolist())

    def __len__(self) -> int:
        return len(self.indices)

    def set_epoch(self, epoch: int) -> None:
        """Accepted for drop-in use where loops call ``sampler.set_epoch``; the order never changes."""
