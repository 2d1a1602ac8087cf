"""PyTorch adapter: pymia samples as a map-style ``Dataset`` for ``torch.utils.data.DataLoader``.

Importing this package imports torch (and fails with :class:`~pymia.errors.MissingDependencyError`
naming the ``torch`` extra when it is missing); ``import pymia`` never does.

>>> from pymia.data.backends.pytorch import create_dataloader          # doctest: +SKIP
>>> loader = create_dataloader(datasource, batch_size=16, shuffle=True, num_workers=2, seed=0)  # doctest: +SKIP
>>> for batch in loader:                                                # doctest: +SKIP
...     images, labels = batch["images"], batch["labels"]               # (B, Y, X, C) tensors
"""

try:
    import torch  # noqa: F401 - fail early with a clear message
except ImportError as error:  # pragma: no cover - torch is installed in the test environment
    from pymia.errors import MissingDependencyError

    raise MissingDependencyError(
        "pymia.data.backends.pytorch needs PyTorch; install it with `pip install pymia[torch]`"
    ) from error

from pymia.data.backends.pytorch.batch_loader import BatchLoader, WorkerError, create_batch_loader
from pymia.data.backends.pytorch.collate import collate_samples, sample_to_tensors
from pymia.data.backends.pytorch.dataset import PytorchDatasetAdapter
from pymia.data.backends.pytorch.loader import create_dataloader
from pymia.data.backends.pytorch.sampler import (
    DistributedEvaluationSampler,
    SeededRandomSampler,
    SubsetSequentialSampler,
    subjects_of_samples,
)
from pymia.data.backends.pytorch.seeding import seed_worker
from pymia.data.backends.pytorch.shared_batches import SharedBatchCollate, shared_batches_supported

__all__ = [
    "BatchLoader",
    "DistributedEvaluationSampler",
    "PytorchDatasetAdapter",
    "SeededRandomSampler",
    "SharedBatchCollate",
    "SubsetSequentialSampler",
    "WorkerError",
    "collate_samples",
    "create_batch_loader",
    "create_dataloader",
    "sample_to_tensors",
    "seed_worker",
    "shared_batches_supported",
    "subjects_of_samples",
]
