"""A batch loader with its own worker processes, for when ``DataLoader``'s per-batch messaging is the bottleneck.

``torch.utils.data.DataLoader`` sends every batch's indices to a worker through a queue fed by a thread, and
every batch back through another; each hop pickles, wakes a feeder thread and takes locks. That costs the
main process about 0.3-0.4 ms per batch, and with small batches (2-D slices: about 1 ms to read 16) on few
cores it eats most of what the workers gain. :class:`BatchLoader` keeps the ``DataLoader`` idiom
(iterate, ``len``, samplers, ``set_epoch``, seeded reproducible batches) with less per batch:

* **One message per worker per epoch** carries the worker's batches: the sampler's order cut into batches,
  and those into chunks of ``batches_per_message`` consecutive batches dealt to the workers in turn. There
  is no index queue.
* Workers stack batches into **reused shared-memory slots** (as :class:`SharedBatchCollate` does) and send
  one small message per chunk over a socket pair; a slot's descriptor travels once, the first time the
  slot is used.
* **Flow control by credits:** a worker runs at most ``prefetch`` batches ahead of the main process, which
  returns credits for the batches it takes, in groups of up to ``prefetch // 2``. No feeder threads, no locks.

The batches are those of :func:`create_dataloader` for the same arguments (same order, same augmentation
with ``seed``), for any number of workers. Use :func:`create_batch_loader`.
"""

from __future__ import annotations

import collections
import contextlib
import math
import multiprocessing
import os
import pickle
import random
import sys
import traceback
import weakref
from collections.abc import Callable, Iterator, Sequence
from multiprocessing import reduction
from typing import Any

import numpy as np
import torch
from torch.utils.data import RandomSampler, SequentialSampler

from pymia.data.backends.pytorch.collate import collate_samples
from pymia.data.backends.pytorch.dataset import as_adapter
from pymia.data.backends.pytorch.sampler import SeededRandomSampler
from pymia.data.backends.pytorch.shared_batches import _FREE, _MappedSlot, _WorkerSlots
from pymia.errors import InvalidInputError

__all__ = ["BatchLoader", "WorkerError", "create_batch_loader", "worker_seed"]

_DEFAULT_PREFETCH = 4
_PROTOCOL = pickle.HIGHEST_PROTOCOL


class WorkerError(RuntimeError):
    """A :class:`BatchLoader` worker process exited or timed out (its own errors are re-raised as they are)."""


class _WorkerExited(WorkerError):
    """A worker process is gone (its connection closed); the loader closes and starts new workers next time."""


# -- worker process ------------------------------------------------------------------------------------
def worker_seed(base_seed: int, worker_id: int) -> int:
    """The seed of worker ``worker_id``'s global generators: independent streams for every (seed, worker) pair."""
    return int(np.random.SeedSequence([base_seed, worker_id]).generate_state(1, np.uint64)[0])


def _seed_worker_globals(base_seed: int, worker_id: int) -> None:
    seed = worker_seed(base_seed, worker_id)
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - the global state is what third-party transforms use


def _worker_main(
    connection: Any,
    dataset: Any,
    worker_id: int,
    base_seed: int,
    worker_init_fn: Callable[[int], None] | None,
    max_slots: int,
) -> None:
    """Loop of one worker: read an epoch plan, then read, stack and send its batches while credits last."""
    torch.set_num_threads(1)
    _seed_worker_globals(base_seed, worker_id)
    slots = _WorkerSlots("", max_slots) if sys.platform != "win32" else None
    try:
        if worker_init_fn is not None:
            worker_init_fn(worker_id)
    except Exception as error:  # reported with the first epoch
        init_error: BaseException | None = error
    else:
        init_error = None
    try:
        while True:
            message = connection.recv()
            if message[0] == "stop":
                return
            if message[0] != "epoch":
                continue  # a credit or cancel of an epoch that is over
            _, epoch_id, epoch, prefetch, chunks = message
            if init_error is not None:
                if chunks:
                    _post(connection, ("chunk", epoch_id, [_error_part(chunks[0][0], init_error)]))
                _post(connection, ("done", epoch_id))
                continue
            if epoch is not None and hasattr(dataset, "set_epoch") and getattr(dataset, "epoch", None) != epoch:
                dataset.set_epoch(epoch)
            if not _run_epoch(connection, dataset, slots, epoch_id, prefetch, chunks):
                return
            _post(connection, ("done", epoch_id))
    except (EOFError, BrokenPipeError, ConnectionResetError, KeyboardInterrupt):
        return  # the main process has gone or closed the loader


def _run_epoch(
    connection: Any,
    dataset: Any,
    slots: _WorkerSlots | None,
    epoch_id: int,
    prefetch: int,
    chunks: Sequence[tuple[int, Sequence[Sequence[int]]]],
) -> bool:
    """Send this worker's batches of one epoch, one message per chunk of consecutive batches, at most
    ``prefetch`` batches ahead of the credits. False when told to stop."""
    credits = prefetch
    for first, batches in chunks:
        parts: list[tuple] = []
        fds: list[int] = []
        outcome = None  # None: go on; True: epoch cancelled; False: stop
        for number, indices in enumerate(batches, start=first):
            while credits == 0 and outcome is None:
                message = connection.recv()
                if message[0] == "credit" and message[1] == epoch_id:
                    credits += message[2]
                elif message[0] == "cancel" and message[1] == epoch_id:
                    outcome = True
                elif message[0] == "stop":
                    outcome = False
            if outcome is not None:
                break
            credits -= 1
            part, fd = _batch_part(dataset, slots, number, indices)
            parts.append(part)
            if fd is not None:
                fds.append(fd)
        if parts:  # also when cancelled: the main process must receive the descriptors of new slots
            try:
                message = ("chunk", epoch_id, parts)
                if any(part[0] == "plain" for part in parts):
                    connection.send(message)  # ordinary tensors: ForkingPickler shares their memory
                else:
                    _post(connection, message)
                for fd in fds:
                    reduction.send_handle(connection, fd, os.getppid())
            finally:
                for fd in fds:
                    os.close(fd)
        if outcome is not None:
            return outcome
    return True


def _batch_part(dataset: Any, slots: _WorkerSlots | None, number: int, indices: Sequence[int]) -> tuple:
    """Read and stack one batch: the part of a chunk message that describes it, and the descriptor of a slot
    the main process has not received yet (or None)."""
    try:
        samples = _read(dataset, indices)
        filled = slots.fill(samples) if slots is not None else collate_samples(samples)
    except Exception as error:
        return _error_part(number, error), None
    if isinstance(filled, dict):  # no slot to be had: an ordinary batch
        return ("plain", number, filled), None
    slot_number, layout, values = filled
    slot = slots.slots[slot_number]  # type: ignore[union-attr]
    fd = slot.take_pending_fd()
    entries = [(key, offset, dtype, shape) for key, offset, _nbytes, dtype, shape in layout.entries]
    new_slot = None if fd is None else slot.capacity
    return ("batch", number, slot_number, new_slot, layout.nbytes, entries, values), fd


def _post(connection: Any, message: tuple) -> None:
    """Send a message of plain Python values; ``Connection.send`` would build a ``ForkingPickler`` (with
    torch's reducers) for each message, which costs more than the message."""
    connection.send_bytes(pickle.dumps(message, _PROTOCOL))


def _read(dataset: Any, indices: Sequence[int]) -> list[dict]:
    getitems = getattr(dataset, "__getitems__", None)
    return getitems(list(indices)) if getitems is not None else [dataset[i] for i in indices]


def _error_part(number: int, error: BaseException) -> tuple:
    text = "".join(traceback.format_exception(error))
    try:
        payload: Any = bytes(reduction.ForkingPickler.dumps(error))
    except Exception:  # an exception that cannot be pickled: its text only
        payload = None
    return ("error", number, payload, type(error).__name__, text)


# -- main process --------------------------------------------------------------------------------------
class _Workers:
    """The worker processes of a loader, their connections and the slots they have shared."""

    def __init__(
        self,
        dataset: Any,
        num_workers: int,
        context: Any,
        base_seed: int,
        worker_init_fn: Callable[[int], None] | None,
        max_slots: int,
    ) -> None:
        self.connections: list[Any] = []
        self.processes: list[Any] = []
        self.slots: list[dict[int, _MappedSlot]] = [{} for _ in range(num_workers)]
        try:
            for worker_id in range(num_workers):
                ours, theirs = context.Pipe(duplex=True)
                process = context.Process(
                    target=_worker_main,
                    args=(theirs, dataset, worker_id, base_seed, worker_init_fn, max_slots),
                    name=f"pymia-batch-worker-{worker_id}",
                    daemon=True,
                )
                process.start()
                theirs.close()
                self.connections.append(ours)
                self.processes.append(process)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        _close_workers(self.connections, self.processes)
        self.connections, self.processes = [], []


def _close_workers(connections: list, processes: list) -> None:
    for connection in connections:
        with contextlib.suppress(OSError, ValueError):
            _post(connection, ("stop",))
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():  # pragma: no cover - a worker stuck in user code
            process.terminate()
            process.join(timeout=5)
    for connection in connections:
        connection.close()


class BatchLoader:
    """Iterate over batches of a map-style dataset, read by worker processes of pymia's own.

    A drop-in for the ``DataLoader`` that :func:`create_dataloader` returns, where its per-batch messaging
    costs more than reading (small batches, few cores); see the module description. Prefer
    :func:`create_batch_loader`, which builds it from a datasource.

    Parameters
    ----------
    dataset : PytorchDatasetAdapter or map-style dataset
        Samples as dictionaries; its batched ``__getitems__`` is used when present, and its ``set_epoch``
        and ``epoch`` are forwarded to the workers.
    batch_size : int, optional
        Samples per batch (default 16).
    sampler : iterable of int, optional
        The order of the sample numbers (e.g. ``DistributedSampler``, :class:`DistributedEvaluationSampler`);
        default sequential, or random with ``shuffle``.
    shuffle : bool, optional
        Random order each epoch; reproducible with ``seed`` (a :class:`SeededRandomSampler`).
    seed : int, optional
        Seeds the order (with ``shuffle``) and the global generators (``torch``, ``random``, ``numpy.random``) of
        each worker (:func:`worker_seed`); without it they are drawn from ``torch``'s generator.
    num_workers : int, optional
        Worker processes (default 0: read in the calling process). They start on the first iteration and
        stay until :meth:`close` (or garbage collection).
    drop_last : bool, optional
        Drop the last batch if it is smaller than ``batch_size``.
    pin_memory : bool, optional
        Copy the batches' tensors into page-locked memory (when CUDA is available).
    prefetch : int, optional
        Batches each worker may read ahead of the consumer (default 4). Each worker keeps up to ``prefetch + 3``
        shared-memory slots of one batch each.
    batches_per_message : int, optional
        Consecutive batches a worker reads and announces in one message (default 2; at most ``prefetch``).
        Fewer messages mean fewer wake-ups of the main process; the first batch of an epoch comes after this
        many have been read.
    multiprocessing_context : str or context, optional
        ``'fork'``, ``'spawn'``, ``'forkserver'`` or a ``multiprocessing`` context; default the platform's.
    worker_init_fn : callable, optional
        Called with the worker number in each worker before its first batch.
    timeout : float, optional
        Seconds to wait for a batch before raising :class:`WorkerError` (default 0: no limit).

    Notes
    -----
    Batches are the dictionaries of :func:`collate_samples`; with workers their tensors are views of a
    shared-memory slot, which is reused once the last reference to the batch is gone (keep a batch as long
    as you like: its slot is simply not reused). An error in a worker (e.g. a
    :class:`~pymia.data.backends.batching.BatchError` naming the samples) is raised in the main process with
    the worker's traceback as a note. Inside the workers, ``torch.utils.data.get_worker_info()`` is ``None``.
    """

    def __init__(
        self,
        dataset: Any,
        *,
        batch_size: int = 16,
        sampler: Any = None,
        shuffle: bool = False,
        seed: int | None = None,
        num_workers: int = 0,
        drop_last: bool = False,
        pin_memory: bool = False,
        prefetch: int = _DEFAULT_PREFETCH,
        batches_per_message: int = 2,
        multiprocessing_context: Any = None,
        worker_init_fn: Callable[[int], None] | None = None,
        timeout: float = 0,
    ) -> None:
        for name, value, least in (
            ("batch_size", batch_size, 1),
            ("num_workers", num_workers, 0),
            ("prefetch", prefetch, 1),
            ("batches_per_message", batches_per_message, 1),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise InvalidInputError(f"{name} must be an int >= {least}, got {value!r}")
        if timeout < 0:
            raise InvalidInputError(f"timeout must be >= 0 seconds, got {timeout!r}")
        if sampler is None:
            if shuffle:
                sampler = SeededRandomSampler(dataset, seed) if seed is not None else RandomSampler(dataset)
            else:
                sampler = SequentialSampler(dataset)
        if isinstance(multiprocessing_context, str):
            multiprocessing_context = multiprocessing.get_context(multiprocessing_context)
        self.dataset = dataset
        self.batch_size = batch_size
        self.sampler = sampler
        self.num_workers = num_workers
        self.drop_last = drop_last
        self.pin_memory = pin_memory
        self.prefetch = prefetch
        self.batches_per_message = batches_per_message
        self.multiprocessing_context = multiprocessing_context or multiprocessing.get_context()
        self.worker_init_fn = worker_init_fn
        self.timeout = timeout
        self.seed = seed
        self._workers: _Workers | None = None
        self._finalizer: weakref.finalize | None = None
        self._epoch_id = 0
        self._active: _EpochIterator | None = None

    def __len__(self) -> int:
        samples = len(self.sampler)
        return samples // self.batch_size if self.drop_last else math.ceil(samples / self.batch_size)

    def _batches(self) -> list[list[int]]:
        order = [int(i) for i in self.sampler]
        batches = [order[start : start + self.batch_size] for start in range(0, len(order), self.batch_size)]
        if self.drop_last and batches and len(batches[-1]) < self.batch_size:
            batches.pop()
        return batches

    def __iter__(self) -> Iterator[dict[str, Any]]:
        batches = self._batches()
        if self.num_workers == 0:
            return self._iterate_in_process(batches)
        if self._active is not None:
            self._active.cancel()
        if self._workers is None:
            self._start_workers()
        self._epoch_id += 1
        self._active = _EpochIterator(self, self._epoch_id, batches)
        return self._active

    def _iterate_in_process(self, batches: list[list[int]]) -> Iterator[dict[str, Any]]:
        for indices in batches:
            yield self._pinned(collate_samples(_read(self.dataset, indices)))

    def _start_workers(self) -> None:
        if self.seed is not None:
            base_seed = int(self.seed)
        else:
            base_seed = int(torch.empty((), dtype=torch.int64).random_().item())
        self._workers = _Workers(
            self.dataset,
            self.num_workers,
            self.multiprocessing_context,
            base_seed,
            self.worker_init_fn,
            max_slots=self.prefetch + 3,  # in flight, the caller's current and previous batch, one to spare
        )
        self._finalizer = weakref.finalize(self, _close_workers, self._workers.connections, self._workers.processes)

    def _pinned(self, batch: dict[str, Any]) -> dict[str, Any]:
        if not self.pin_memory or not torch.cuda.is_available():
            return batch
        return {key: _pin(value) if isinstance(value, torch.Tensor) else value for key, value in batch.items()}

    def close(self) -> None:
        """Stop the worker processes (they start again on the next iteration)."""
        if self._active is not None:
            self._active.cancel()
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None
        self._workers = None

    def __enter__(self) -> BatchLoader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(batch_size={self.batch_size}, num_workers={self.num_workers}, "
            f"prefetch={self.prefetch}, batches={len(self)})"
        )


class _EpochIterator:
    """One pass over the batches with workers; receives them in order and returns credits."""

    def __init__(self, loader: BatchLoader, epoch_id: int, batches: list[list[int]]) -> None:
        self.loader = loader
        self.workers = loader._workers
        self.epoch_id = epoch_id
        self.count = len(batches)
        n, prefetch = loader.num_workers, loader.prefetch
        self.per_message = min(loader.batches_per_message, prefetch)
        # Credits go back in groups (fewer messages). A worker holding back a part-built chunk must still get
        # one group back when everything it sent has been taken: group <= prefetch - per_message + 1.
        self.credit_group = max(1, min(prefetch // 2, prefetch - self.per_message + 1))
        self.credit = pickle.dumps(("credit", epoch_id, self.credit_group), _PROTOCOL)
        self.owed = [0] * n
        self.pending: list[collections.deque] = [collections.deque() for _ in range(n)]
        self.last = [-1] * n  # each worker's last batch number
        self.next = 0
        self.finished = [False] * n
        chunks: list[list[tuple[int, list[list[int]]]]] = [[] for _ in range(n)]
        for chunk, first in enumerate(range(0, self.count, self.per_message)):
            worker_id = chunk % n
            chunks[worker_id].append((first, batches[first : first + self.per_message]))
            self.last[worker_id] = min(first + self.per_message, self.count) - 1
        epoch = getattr(loader.dataset, "epoch", None)
        try:
            for worker_id in range(n):
                self._send(worker_id, pickle.dumps(("epoch", epoch_id, epoch, prefetch, chunks[worker_id]), _PROTOCOL))
                if not chunks[worker_id]:
                    self._expect_done(worker_id)
        except _WorkerExited:
            loader.close()
            raise

    def __iter__(self) -> _EpochIterator:
        return self

    def __next__(self) -> dict[str, Any]:
        if self.next >= self.count:
            if self.loader._active is self:
                self.loader._active = None
            raise StopIteration
        try:
            worker_id, part = self._take_next()
        except _WorkerExited:
            self.loader.close()
            raise
        return self.loader._pinned(self._batch(worker_id, part))

    def _take_next(self) -> tuple[int, tuple]:
        """The worker and message part of the next batch; returns the worker's credits or reads its end."""
        number = self.next
        worker_id = (number // self.per_message) % self.loader.num_workers
        pending = self.pending[worker_id]
        if not pending:
            pending.extend(self._receive(worker_id))
        part = pending.popleft()
        if part[1] != number:  # pragma: no cover - a protocol error, never expected
            raise WorkerError(f"BatchLoader worker {worker_id} sent batch {part[1]} where {number} was due")
        self.next += 1
        if number == self.last[worker_id]:
            self._expect_done(worker_id)
        else:
            self.owed[worker_id] += 1
            if self.owed[worker_id] == self.credit_group:
                self.owed[worker_id] = 0
                self._send(worker_id, self.credit)
        return worker_id, part

    def _receive(self, worker_id: int) -> list[tuple]:
        """The parts of the worker's next chunk of this epoch (older epochs' messages are dropped)."""
        connection = self.workers.connections[worker_id]
        while True:
            if self.loader.timeout and not connection.poll(self.loader.timeout):
                raise WorkerError(
                    f"worker {worker_id} sent no batch within timeout={self.loader.timeout} s; raise the timeout "
                    "or look for a read that blocks (network file system, a transform waiting on input)"
                )
            message = self._read_message(worker_id)
            if message[0] == "chunk" and message[1] == self.epoch_id:
                return message[2]
            _discard(self.workers, worker_id, message)

    def _read_message(self, worker_id: int) -> tuple:
        """A worker's next message; the descriptors of new slots that follow a chunk are received and mapped."""
        connection = self.workers.connections[worker_id]
        try:
            message = connection.recv()
            if message[0] == "chunk":
                for part in message[2]:
                    if part[0] == "batch" and part[3] is not None:
                        mapped = _MappedSlot(reduction.recv_handle(connection), part[3])
                        self.workers.slots[worker_id][part[2]] = mapped
        except (EOFError, OSError) as error:
            raise self._exited(worker_id) from error
        return message

    def _send(self, worker_id: int, data: bytes) -> None:
        try:
            self.workers.connections[worker_id].send_bytes(data)
        except OSError as error:
            raise self._exited(worker_id) from error

    def _exited(self, worker_id: int) -> _WorkerExited:
        process = self.workers.processes[worker_id]
        process.join(timeout=1)
        return _WorkerExited(
            f"BatchLoader worker {worker_id} (pid {process.pid}) exited unexpectedly with exit code "
            f"{process.exitcode}; a crash in a native library or the system's out-of-memory killer "
            "(see dmesg) are the usual causes; num_workers=0 shows the error in this process"
        )

    def _batch(self, worker_id: int, part: tuple) -> dict[str, Any]:
        kind = part[0]
        if kind == "batch":
            _, _, slot, _, nbytes, entries, values = part
            return self.workers.slots[worker_id][slot].batch(nbytes, entries, values)
        if kind == "plain":
            return part[2]
        _, number, payload, name, text = part
        self.cancel()
        error = None
        if payload is not None:
            try:
                error = reduction.ForkingPickler.loads(payload)
            except Exception:
                error = None
        if not isinstance(error, BaseException):
            error = WorkerError(f"{name} in BatchLoader worker {worker_id} while reading batch {number}:\n{text}")
        else:
            error.add_note(f"raised in BatchLoader worker {worker_id} while reading batch {number}:\n{text}")
        raise error

    def _expect_done(self, worker_id: int) -> None:
        """Read the worker's end-of-epoch message (it follows its last chunk at once)."""
        while True:
            message = self._read_message(worker_id)
            if message[0] == "done" and message[1] == self.epoch_id:
                self.finished[worker_id] = True
                return
            _discard(self.workers, worker_id, message)

    def cancel(self) -> None:
        """Stop this epoch early: tell the workers, and drain what they already sent."""
        if self.loader._active is self:
            self.loader._active = None
        if self.workers is None or not self.workers.connections:
            return
        for worker_id in range(len(self.workers.connections)):
            _discard(self.workers, worker_id, ("chunk", self.epoch_id, list(self.pending[worker_id])))
            self.pending[worker_id].clear()
            if self.finished[worker_id]:
                continue
            try:
                self._send(worker_id, pickle.dumps(("cancel", self.epoch_id), _PROTOCOL))
                self._expect_done(worker_id)
            except _WorkerExited:
                pass  # nothing to drain from a worker that is gone
        self.next = self.count


def _pin(tensor: torch.Tensor) -> torch.Tensor:
    """A copy in page-locked memory (the slot of a shared batch is then free again)."""
    return tensor.pin_memory()


def _discard(workers: _Workers, worker_id: int, message: tuple) -> None:
    """Free the slots of batches nobody will see (a cancelled epoch, or the rest of a chunk after an error)."""
    if message[0] != "chunk":
        return
    for part in message[2]:
        if part[0] == "batch":
            mapped = workers.slots[worker_id].get(part[2])
            if mapped is not None:
                mapped.state[0] = _FREE


def create_batch_loader(
    datasource: Any,
    *,
    batch_size: int = 16,
    shuffle: bool = False,
    num_workers: int = 0,
    seed: int | None = None,
    transform: Any = None,
    sampler: Any = None,
    **loader_options: Any,
) -> BatchLoader:
    """Return a :class:`BatchLoader` over a datasource: the batches of :func:`create_dataloader`, less overhead.

    Parameters
    ----------
    datasource : PymiaDatasource or PytorchDatasetAdapter
        Wrapped in a :class:`PytorchDatasetAdapter` (with ``transform`` and ``seed``) unless it is one.
    batch_size, shuffle, num_workers, seed, sampler : optional
        As for :func:`create_dataloader`: with ``seed`` the order and augmentation depend only on the seed and
        the adapter's epoch (``loader.dataset.set_epoch(epoch)``), not on ``num_workers``.
    transform : callable, optional
        Augmentation applied by the adapter to each sample.
    **loader_options
        Further :class:`BatchLoader` arguments (``drop_last``, ``pin_memory``, ``prefetch``,
        ``multiprocessing_context``, ``worker_init_fn``, ``timeout``).

    Returns
    -------
    BatchLoader
        Batches are dictionaries from :func:`collate_samples` (e.g. ``'images'`` (B, Y, X, C)).
    """
    dataset = as_adapter(datasource, transform, seed)
    return BatchLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        shuffle=shuffle,
        seed=seed,
        num_workers=num_workers,
        **loader_options,
    )
