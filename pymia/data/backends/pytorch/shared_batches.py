"""Batches handed from ``DataLoader`` workers to the main process through reused shared-memory slots.

With ``num_workers > 0``, PyTorch moves every batch a worker collates into a *new* shared-memory
segment (``file_descriptor`` strategy: create, size, map and fault in the pages in the worker, pass the
descriptor over a socket, map and fault in again in the main process, unmap). For a 2-D slice batch that
costs more than reading it (0.1 ms per slice), so two workers used to be several times *slower* than
none. :class:`SharedBatchCollate` (the ``collate_fn`` of :func:`~pymia.data.backends.pytorch.create_dataloader`
with workers) avoids that:

* Each worker owns a few **slots**: anonymous shared-memory segments (``memfd``) created on first need,
  sized from the batch that needs them (a free slot that is too small is replaced by a larger one), and
  reused for every later batch. The descriptor of a slot travels to the main process once, with the
  first batch written into it.
* The worker stacks the samples straight into a free slot and returns a small message (slot number,
  offsets, shapes and dtypes of the tensors, plus the non-tensor entries such as subject names and
  :class:`~pymia.data.indexexpression.IndexExpression` lists) through the loader's normal result queue.
* Unpickling the message in the main process builds the same batch dictionary as
  :func:`~pymia.data.backends.pytorch.collate_samples`, whose tensors are views of the slot (no copy).
  All of them hold one NumPy array over the slot; when the last tensor (or view, or ``.numpy()`` array)
  of the batch is gone, a finalizer marks the slot free again. Batches kept by the user (appended to a
  list) therefore stay valid: their slot is simply not reused.
* When no slot is free (the user keeps many batches) or shared memory cannot be created, the worker
  returns an ordinary batch through PyTorch's path at once, so nothing ever waits for a slot.

Each slot starts with a 64-byte header whose first ``int32`` is the slot state (0 free, 1 in use). Only the
worker sets it to 1 (before writing) and only the main process sets it back to 0 (after the batch is
gone), so no lock is needed. Segments are anonymous: nothing is left in ``/dev/shm``, whatever happens to
the processes; the memory is returned when the last process unmaps it (the worker exits and the main
process drops the loader and the batches).

Works with the ``fork``, ``spawn`` and ``forkserver`` start methods, ``pin_memory=True`` (pinning copies
the batch; the slot is then freed at once), persistent and non-persistent workers. Not used on Windows.
"""

from __future__ import annotations

import math
import mmap
import os
import sys
import threading
import uuid
import weakref
from collections.abc import Sequence
from multiprocessing import reduction
from typing import Any

import numpy as np
import torch
from torch.utils.data import get_worker_info

from pymia.data.backends.pytorch.collate import BatchEntry, collate_samples, materialize_batch, plan_batch
from pymia.data.backends.shared_memory import aligned, anonymous_segment
from pymia.errors import InvalidInputError

__all__ = ["SharedBatchCollate", "shared_batches_supported"]

_HEADER = 64  # bytes before a slot's data; the first int32 is the slot state
_FREE, _IN_USE = 0, 1


def shared_batches_supported() -> bool:
    """True where :class:`SharedBatchCollate` can pass batches through shared memory (POSIX systems)."""
    return sys.platform != "win32"


def _release(state: np.ndarray, owner: int) -> None:
    """Finalizer of a received batch: mark its slot free (only in the process that received it).

    It runs when the last reference to the batch's memory is dropped, after all reads of it: the worker only
    writes into a slot after it has seen this store.
    """
    if os.getpid() == owner:  # a forked child that inherited the batch must not free the parent's slot
        state[0] = _FREE


_NUMPY_DTYPES: dict[torch.dtype, np.dtype | None] = {}


def _numpy_dtype(dtype: torch.dtype) -> np.dtype | None:
    """The NumPy dtype of a torch dtype, or ``None`` where NumPy has none (``bfloat16``, ...)."""
    if dtype not in _NUMPY_DTYPES:
        try:
            _NUMPY_DTYPES[dtype] = torch.empty(0, dtype=dtype).numpy().dtype
        except (TypeError, RuntimeError):
            _NUMPY_DTYPES[dtype] = None
    return _NUMPY_DTYPES[dtype]


class _Layout:
    """Where the tensors of batches with one signature (keys, kinds, shapes, dtypes) lie in a slot."""

    __slots__ = ("entries", "nbytes")

    def __init__(self, plan: Sequence[BatchEntry]) -> None:
        self.entries: list[tuple] = []  # (key, offset or None, nbytes, dtype, shape)
        offset = 0
        for entry in plan:
            if entry.kind == "list":
                self.entries.append((entry.key, None, 0, None, None))
                continue
            nbytes = math.prod(entry.shape) * entry.dtype.itemsize
            self.entries.append((entry.key, offset, nbytes, entry.dtype, entry.shape))
            offset += aligned(nbytes)
        self.nbytes = offset


def _signature(plan: Sequence[BatchEntry]) -> tuple:
    return tuple((entry.key, entry.kind, entry.shape, entry.dtype) for entry in plan)


# -- worker side ------------------------------------------------------------------------------------
class _WorkerSlot:
    """A slot as the worker sees it: its mapping, state, cached tensor views and the descriptor to send."""

    __slots__ = ("capacity", "data", "memory", "pending_fd", "state", "targets")

    def __init__(self, capacity: int) -> None:
        # the descriptor stays open until it is handed to the main process (take_pending_fd)
        self.pending_fd: int | None
        self.pending_fd, self.memory = anonymous_segment(_HEADER + capacity, "pymia-batch")
        self.capacity = capacity
        self.state = np.frombuffer(self.memory, dtype=np.int32, count=1)
        self.data = torch.frombuffer(self.memory, dtype=torch.uint8, count=capacity, offset=_HEADER)
        self.targets: dict[tuple, list[torch.Tensor | None]] = {}

    def take_pending_fd(self) -> int | None:
        """The slot's descriptor if the main process has not received it yet (the caller closes it), else None."""
        fd, self.pending_fd = self.pending_fd, None
        return fd

    def __del__(self) -> None:
        if getattr(self, "pending_fd", None) is not None:
            os.close(self.pending_fd)

    def targets_for(self, signature: tuple, layout: _Layout) -> list[torch.Tensor | None]:
        """Tensor views of this slot for each entry of a layout (cached: batches mostly repeat one layout)."""
        targets = self.targets.get(signature)
        if targets is None:
            targets = [
                None if offset is None or not nbytes else self.data[offset : offset + nbytes].view(dtype).view(shape)
                for _key, offset, nbytes, dtype, shape in layout.entries
            ]
            if len(self.targets) >= _CACHED_LAYOUTS:
                self.targets.clear()
            self.targets[signature] = targets
        return targets


_CACHED_LAYOUTS = 8


class _WorkerSlots:
    """The slots of one worker process for one :class:`SharedBatchCollate`."""

    def __init__(self, token: str, max_slots: int) -> None:
        self.token = token
        self.max_slots = max_slots
        self.pid = os.getpid()
        self.process_key = f"{self.pid}-{uuid.uuid4().hex[:8]}"
        self.slots: list[_WorkerSlot] = []
        self.layouts: dict[tuple, _Layout] = {}
        self.disabled = False

    def _acquire(self, nbytes: int) -> int | None:
        free = [number for number, slot in enumerate(self.slots) if slot.state[0] == _FREE]
        for number in free:
            if self.slots[number].capacity >= nbytes:
                return number
        capacity = max(-(-nbytes // mmap.PAGESIZE) * mmap.PAGESIZE, mmap.PAGESIZE)
        try:
            if len(self.slots) < self.max_slots:
                self.slots.append(_WorkerSlot(capacity))
                return len(self.slots) - 1
            if free:  # replace the largest free slot that is too small (a larger batch than before)
                number = max(free, key=lambda n: self.slots[n].capacity)
                self.slots[number] = _WorkerSlot(capacity)
                return number
        except OSError:  # no shared memory to be had (limits, memory): PyTorch's path from now on
            self.disabled = True
        return None

    def fill(self, samples: Sequence[dict[str, Any]]) -> tuple[int, _Layout, list] | dict[str, Any]:
        """Stack ``samples`` into a free slot: ``(slot number, layout, non-tensor values)``, or an ordinary
        batch (:func:`materialize_batch`) when no slot can be had."""
        plan = plan_batch(samples)
        if self.disabled:
            return materialize_batch(plan)
        signature = _signature(plan)
        layout = self.layouts.get(signature)
        if layout is None:
            layout = _Layout(plan)
            if len(self.layouts) >= _CACHED_LAYOUTS:
                self.layouts.clear()
            self.layouts[signature] = layout
        number = self._acquire(layout.nbytes)
        if number is None:
            return materialize_batch(plan)
        slot = self.slots[number]
        slot.state[0] = _IN_USE
        try:
            for entry, target in zip(plan, slot.targets_for(signature, layout)):
                if target is None:
                    continue
                if entry.kind == "stack":
                    torch.stack(entry.value, out=target)
                else:
                    target.copy_(entry.value)
        except BaseException:
            slot.state[0] = _FREE
            raise
        return number, layout, [entry.value if entry.kind == "list" else None for entry in plan]

    def collate(self, samples: Sequence[dict[str, Any]]) -> Any:
        """A :class:`_SharedBatch` message for the ``DataLoader``'s result queue, or an ordinary batch."""
        filled = self.fill(samples)
        if isinstance(filled, dict):
            return filled
        number, layout, values = filled
        slot = self.slots[number]
        raw_fd, fd = slot.take_pending_fd(), None
        if raw_fd is not None:
            # registered with multiprocessing's resource sharer: the main process fetches a duplicate of
            # the descriptor when it unpickles the first message of this slot
            try:
                fd = reduction.DupFd(raw_fd)
            finally:
                os.close(raw_fd)
        return _SharedBatch(self.token, self.process_key, number, fd, slot.capacity, layout, values)


class _SharedBatch:
    """What a worker returns for a batch in a slot; it unpickles into the batch dictionary."""

    __slots__ = ("capacity", "fd", "layout", "process_key", "slot", "token", "values")

    def __init__(
        self, token: str, process_key: str, slot: int, fd: Any, capacity: int, layout: _Layout, values: list
    ) -> None:
        self.token, self.process_key, self.slot, self.fd = token, process_key, slot, fd
        self.capacity, self.layout, self.values = capacity, layout, values

    def __reduce__(self) -> tuple:
        layout = [(key, offset, dtype, shape) for key, offset, _nbytes, dtype, shape in self.layout.entries]
        arguments = (self.token, self.process_key, self.slot, self.fd, self.capacity, self.layout.nbytes, layout)
        return (_receive_batch, (*arguments, self.values))


# -- main side ---------------------------------------------------------------------------------------
class _MappedSlot:
    """A slot as the main process sees it."""

    __slots__ = ("memory", "state")

    def __init__(self, fd: int, capacity: int) -> None:
        try:
            self.memory = mmap.mmap(fd, _HEADER + capacity)
        finally:
            os.close(fd)
        self.state = np.frombuffer(self.memory, dtype=np.int32, count=1)

    def batch(self, nbytes: int, layout: list[tuple], values: list) -> dict[str, Any]:
        # One array over the batch's bytes that every tensor of the batch keeps alive (through the NumPy
        # views torch.from_numpy holds): its finalizer frees the slot when the last of them is gone.
        base = np.frombuffer(self.memory, dtype=np.uint8, count=nbytes, offset=_HEADER)
        weakref.finalize(base, _release, self.state, os.getpid()).atexit = False
        batch: dict[str, Any] = {}
        for (key, offset, dtype, shape), value in zip(layout, values):
            if offset is None:
                batch[key] = value
                continue
            numpy_dtype = _numpy_dtype(dtype)
            if numpy_dtype is not None:
                batch[key] = torch.from_numpy(np.ndarray(shape, numpy_dtype, base, offset))
            else:  # no NumPy dtype (bfloat16, ...): a torch view of the same array
                size = math.prod(shape) * dtype.itemsize
                raw = torch.frombuffer(base, dtype=torch.uint8) if size else torch.empty(0, dtype=torch.uint8)
                batch[key] = raw[offset : offset + size].view(dtype).view(shape)
        return batch


class _BatchReceiver:
    """Main-process state of one :class:`SharedBatchCollate`: the mapped slots of every worker process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._processes: dict[str, dict[int, _MappedSlot]] = {}

    def _forget_exited_workers(self) -> None:
        for process_key in list(self._processes):
            pid = int(process_key.split("-")[0])
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                del self._processes[process_key]  # batches still alive keep their own mapping
            except OSError:
                pass

    def receive(
        self, process_key: str, slot: int, fd: Any, capacity: int, nbytes: int, layout: list, values: list
    ) -> dict:
        with self._lock:
            slots = self._processes.get(process_key)
            if fd is not None:
                if slots is None:
                    self._forget_exited_workers()
                    slots = self._processes[process_key] = {}
                slots[slot] = _MappedSlot(fd.detach(), capacity)
            mapped = None if slots is None else slots.get(slot)
        if mapped is None:
            raise RuntimeError(
                f"a DataLoader worker sent a batch in shared-memory slot {slot} of process {process_key}, which "
                "this process never received; batches of a SharedBatchCollate must be unpickled by the process "
                "that created the loader"
            )
        return mapped.batch(nbytes, layout, values)


_RECEIVERS: weakref.WeakValueDictionary[str, _BatchReceiver] = weakref.WeakValueDictionary()


def _receive_batch(
    token: str, process_key: str, slot: int, fd: Any, capacity: int, nbytes: int, layout: list, values: list
) -> dict[str, Any]:
    receiver = _RECEIVERS.get(token)
    if receiver is None:
        raise RuntimeError(
            "received a shared-memory batch of a DataLoader that no longer exists in this process (its "
            "collate_fn, a SharedBatchCollate, was garbage collected)"
        )
    return receiver.receive(process_key, slot, fd, capacity, nbytes, layout, values)


# -- the collate function -------------------------------------------------------------------------------
class SharedBatchCollate:
    """``collate_fn`` that returns :func:`collate_samples` batches through reused shared-memory slots.

    In the main process (``num_workers=0``) it is :func:`collate_samples`. In a ``DataLoader`` worker it
    stacks the samples into one of the worker's slots and sends only a small message; the main process
    receives the same batch dictionary, backed by the slot without a copy. See the module description.

    Parameters
    ----------
    slots_per_worker : int, optional
        Most slots a worker creates (default 5: ``prefetch_factor`` 2, plus the batch in use, the previous
        one and one to spare). When all of them are in use, e.g. because the caller keeps batches, the
        worker returns ordinary batches through PyTorch's path until a slot is free again.

    Notes
    -----
    Create one instance per ``DataLoader`` (``create_dataloader(..., shared_batches=True)`` does): the
    instance held by the loader in the main process owns the mapped slots; they are unmapped when it and
    the last batch are garbage collected.
    """

    def __init__(self, slots_per_worker: int = 5) -> None:
        if isinstance(slots_per_worker, bool) or not isinstance(slots_per_worker, int) or slots_per_worker < 1:
            raise InvalidInputError(f"slots_per_worker must be a positive int, got {slots_per_worker!r}")
        self.slots_per_worker = slots_per_worker
        self._token = uuid.uuid4().hex
        self._receiver: _BatchReceiver | None = _BatchReceiver()
        _RECEIVERS[self._token] = self._receiver
        self._worker: _WorkerSlots | None = None

    def __getstate__(self) -> dict:
        return {"slots_per_worker": self.slots_per_worker, "_token": self._token}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._receiver = None  # a copy in a worker (spawn, forkserver) receives nothing
        self._worker = None

    def __call__(self, samples: Sequence[dict[str, Any]]) -> dict[str, Any] | Any:
        """Collate ``samples``: in a worker into a shared-memory slot, else with :func:`collate_samples`."""
        if get_worker_info() is None or not shared_batches_supported():
            return collate_samples(samples)
        worker = self._worker
        if worker is None or worker.pid != os.getpid():
            worker = self._worker = _WorkerSlots(self._token, self.slots_per_worker)  # new (forked) process
        return worker.collate(samples)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(slots_per_worker={self.slots_per_worker})"
