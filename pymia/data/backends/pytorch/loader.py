"""One call that builds a ``DataLoader`` over a datasource with pymia's collate, seeding and settings.

With workers, batches come back through reused shared-memory slots
(:class:`~pymia.data.backends.pytorch.SharedBatchCollate`) instead of a new shared-memory segment per batch.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import DataLoader

from pymia.data.backends.pytorch.collate import collate_samples
from pymia.data.backends.pytorch.dataset import as_adapter
from pymia.data.backends.pytorch.sampler import SeededRandomSampler
from pymia.data.backends.pytorch.seeding import seed_worker
from pymia.data.backends.pytorch.shared_batches import SharedBatchCollate, shared_batches_supported

__all__ = ["create_dataloader"]


def create_dataloader(
    datasource: Any,
    *,
    batch_size: int = 16,
    shuffle: bool = False,
    num_workers: int = 0,
    seed: int | None = None,
    transform: Any = None,
    sampler: Any = None,
    drop_last: bool = False,
    pin_memory: bool = False,
    persistent_workers: bool | None = None,
    prefetch_factor: int | None = None,
    multiprocessing_context: Any = None,
    shared_batches: bool | None = None,
    **loader_options: Any,
) -> DataLoader:
    """Return a ``torch.utils.data.DataLoader`` over a datasource.

    Parameters
    ----------
    datasource : PymiaDatasource or PytorchDatasetAdapter
        Wrapped in a :class:`PytorchDatasetAdapter` (with ``transform`` and ``seed``) unless it is one
        (then ``transform`` must be ``None``: the adapter has its own).
    batch_size : int, optional
        Samples per batch (default 16).
    shuffle : bool, optional
        Random order each epoch (ignored when ``sampler`` is given). With ``seed``, the order is a
        :class:`SeededRandomSampler`'s: it depends only on the seed and the adapter's epoch
        (``loader.dataset.set_epoch(epoch)``), not on the worker settings.
    num_workers : int, optional
        Worker processes (default 0: read in the main process).
    seed : int, optional
        Seeds the shuffling order, the per-sample augmentation seeds of the adapter, and (through the
        loader's ``generator``) the workers' global generators (:func:`seed_worker`): the same seed
        gives the same batches for any ``num_workers`` and ``persistent_workers``.
    transform : callable, optional
        Augmentation applied by the adapter to each sample.
    sampler : Sampler, optional
        E.g. ``torch.utils.data.DistributedSampler`` for training or
        :class:`DistributedEvaluationSampler` for evaluation.
    drop_last, pin_memory, prefetch_factor, multiprocessing_context : optional
        As for ``DataLoader``.
    persistent_workers : bool, optional
        Keep workers (and their open HDF5 files) alive between epochs; default ``num_workers > 0``.
    shared_batches : bool, optional
        Hand batches from the workers to the main process through a few reused shared-memory slots per
        worker (:class:`SharedBatchCollate`) rather than PyTorch's new shared-memory segment per batch; the
        batches are the same. Default: on with workers (except on Windows); no effect with ``num_workers=0``.
    **loader_options
        Further ``DataLoader`` arguments.

    Returns
    -------
    torch.utils.data.DataLoader
        Batches are dictionaries from :func:`collate_samples` (e.g. ``'images'`` (B, Y, X, C)); its
        ``collate_fn`` is :func:`collate_samples` or, with shared batches, a :class:`SharedBatchCollate`.
    """
    dataset = as_adapter(datasource, transform, seed)
    generator = None
    if seed is not None:
        generator = torch.Generator()
        generator.manual_seed(seed)
        if shuffle and sampler is None:
            sampler = SeededRandomSampler(dataset, seed)
    if persistent_workers is None:
        persistent_workers = num_workers > 0
    if shared_batches is None:
        shared_batches = num_workers > 0 and shared_batches_supported()
    collate_fn: Any = collate_samples
    if shared_batches and num_workers > 0:
        # slots: the batches a worker may have queued (prefetch_factor), the caller's current and previous
        # batch, one to spare; more only when the caller keeps batches (then PyTorch's path is used)
        collate_fn = SharedBatchCollate(slots_per_worker=(2 if prefetch_factor is None else prefetch_factor) + 3)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle if sampler is None else False,
        sampler=sampler,
        num_workers=num_workers,
        collate_fn=collate_fn,
        worker_init_fn=seed_worker,
        generator=generator,
        drop_last=drop_last,
        pin_memory=pin_memory,
        persistent_workers=persistent_workers,
        prefetch_factor=prefetch_factor,
        multiprocessing_context=multiprocessing_context,
        **loader_options,
    )
