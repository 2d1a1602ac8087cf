"""Read batches of samples as lists of arrays, in the calling thread or in a pool of worker processes.

This is the NumPy side of the tf.data pipeline (``tf.numpy_function`` calls it). tf.data's parallel
map runs in threads, which h5py and the GIL serialise; with ``num_workers > 0`` each call hands its
sample numbers to a reader process (:mod:`.worker_pool`) and waits without holding the GIL, so reads
run in parallel.
"""

from __future__ import annotations

import multiprocessing
import threading
from typing import Any

import numpy as np

from pymia.data.augmentation.seeding import reseed_transforms
from pymia.data.backends.tensorflow.signature import SampleSignature, sample_arrays
from pymia.data.backends.tensorflow.worker_pool import ReaderProcessPool

__all__ = ["SampleReader"]


def read_samples(
    datasource: Any,
    indices: list[int],
    epoch: int,
    signature: SampleSignature,
    transform: Any,
    seed: int | None,
    batched: bool,
) -> list[np.ndarray]:
    """Extract, transform and check samples; return one array per signature entry (stacked if ``batched``)."""
    getitems = getattr(datasource, "__getitems__", None)
    samples = getitems(indices) if getitems is not None else [datasource[i] for i in indices]
    per_sample = []
    for index, sample in zip(indices, samples):
        if transform is not None:
            if seed is not None:
                reseed_transforms(transform, (seed, epoch, index))
            sample = transform(sample)
        per_sample.append(sample_arrays(sample, signature, f"sample {index}"))
    if not batched:
        return per_sample[0]
    return [np.stack(column) for column in zip(*per_sample)]


class SampleReader:
    """The callable behind ``tf.numpy_function``: sample numbers (and epoch) in, arrays out.

    Parameters
    ----------
    datasource : PymiaDatasource
        Picklable datasource (sent once to every worker process).
    signature : SampleSignature
        Entries, shapes and dtypes of one sample.
    transform : callable, optional
        Applied to each sample; random transforms are reseeded from ``(seed, epoch, sample_index)``
        when ``seed`` is given.
    seed : int, optional
        See ``transform``.
    num_workers : int
        0: read in the calling thread; otherwise the size of the process pool.
    multiprocessing_context : str, optional
        Start method of the pool. Default ``'fork'`` where available: the workers start at once
        and only run NumPy/h5py code. ``'spawn'`` and ``'forkserver'`` import the main module in
        the workers (guard scripts with ``if __name__ == "__main__":``).

    Notes
    -----
    The pool is started when the reader is created, from the calling (main) thread, and stopped by
    :meth:`close` or when the reader is garbage-collected. Without a pool, calls from tf.data's
    threads are serialised by a lock: h5py serialises them anyway, and the transform's generators
    must not be reseeded by one thread while another draws from them.
    """

    def __init__(
        self,
        datasource: Any,
        signature: SampleSignature,
        transform: Any = None,
        seed: int | None = None,
        num_workers: int = 0,
        multiprocessing_context: str | None = None,
    ) -> None:
        self.datasource = datasource
        self.signature = signature
        self.transform = transform
        self.seed = seed
        self.num_workers = num_workers
        if multiprocessing_context is None:
            multiprocessing_context = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        self.multiprocessing_context = multiprocessing_context
        self._lock = threading.Lock()
        self._pool: ReaderProcessPool | None = None
        if num_workers > 0:
            self._pool = ReaderProcessPool(num_workers, multiprocessing_context, datasource, signature, transform, seed)

    def __call__(self, indices: np.ndarray, epoch: np.ndarray, batched: bool) -> list[np.ndarray]:
        index_list = [int(i) for i in np.atleast_1d(indices)]
        epoch_number = int(epoch)
        if self.num_workers == 0:
            with self._lock:
                return read_samples(
                    self.datasource, index_list, epoch_number, self.signature, self.transform, self.seed, batched
                )
        if self._pool is None:
            raise RuntimeError("the reader was closed; build a new dataset")
        return self._pool.read(index_list, epoch_number, batched)

    def close(self) -> None:
        """Stop the worker processes (they also stop when the interpreter exits)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __del__(self) -> None:
        if getattr(self, "_pool", None) is not None:
            self.close()
