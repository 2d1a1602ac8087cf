"""Reader processes for the tf.data pipeline, each driven over its own pipe.

tf.data's map threads take an idle process, send it sample numbers and block on the pipe without
holding the GIL, so several reads run truly in parallel. There is no manager thread in between,
which matters on busy machines where every hand-over between threads costs a time slice.

The arrays come back through a shared-memory segment that each process creates once (an anonymous
``memfd``, grown when a batch needs more) and whose descriptor it passes over the pipe: the process
writes a batch into it, the pipe carries only shapes, dtypes and offsets, and the caller copies the
arrays out (tf.data may keep the memory of an array it is handed, so the segment itself is never
handed on). Where descriptors cannot be passed (Windows), the arrays travel as raw bytes over the
pipe, received straight into new arrays. Neither path pickles voxel data.
"""

from __future__ import annotations

import mmap
import multiprocessing
import os
import queue
import sys
from multiprocessing import reduction
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from pymia.data.augmentation.seeding import reseed_transforms
from pymia.data.backends.shared_memory import aligned, anonymous_segment

__all__ = ["ReaderProcessPool"]

_RAW, _PICKLED, _SHARED = "raw", "pickled", "shared"


def _shared_memory_supported() -> bool:
    return sys.platform != "win32" and hasattr(os, "memfd_create") and hasattr(reduction, "send_handle")


class _Segment:
    """The worker's shared-memory segment (created on first need, replaced by a larger one when needed)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.memory: mmap.mmap | None = None

    def ensure(self, nbytes: int) -> mmap.mmap:
        """A segment of at least ``nbytes``; a new one is announced to the caller with its descriptor."""
        if self.memory is None or len(self.memory) < nbytes:
            size = max(nbytes + nbytes // 4, mmap.PAGESIZE)  # room for somewhat larger batches
            descriptor, memory = anonymous_segment(size, "pymia-tf-batch")
            try:
                self.connection.send(("segment", size))
                reduction.send_handle(self.connection, descriptor, os.getppid())
            finally:
                os.close(descriptor)
            if self.memory is not None:
                self.memory.close()
            self.memory = memory
        return self.memory


def _send_arrays(connection: Connection, arrays: list[np.ndarray], segment: _Segment | None) -> None:
    """Send a batch: through the shared segment where possible, else as raw bytes after the header."""
    header: list[tuple] = []
    offset = 0
    for array in arrays:
        if array.dtype.hasobject:
            header.append((_PICKLED, array))
        elif segment is not None:
            header.append((_SHARED, array.shape, array.dtype.str, offset))
            offset += aligned(array.nbytes)
        else:
            header.append((_RAW, array.shape, array.dtype.str))
    if segment is not None and offset:
        memory = segment.ensure(offset)
        for entry, array in zip(header, arrays):
            if entry[0] == _SHARED:
                target = np.ndarray(array.shape, dtype=array.dtype, buffer=memory, offset=entry[3])
                np.copyto(target, array)
    connection.send(("ok", header))
    for entry, array in zip(header, arrays):
        if entry[0] == _RAW:
            connection.send_bytes(np.ascontiguousarray(array).reshape(-1).view(np.uint8))


def _serve(connection: Connection, datasource: Any, signature: Any, transform: Any, seed: int | None) -> None:
    """Main loop of a reader process: (indices, epoch, batched) in, header + array bytes out."""
    from pymia.data.backends.tensorflow.reading import read_samples  # the reader imports this module

    if transform is not None and seed is None:
        reseed_transforms(transform, (os.getpid(),))  # copies of one generator would repeat their draws
    segment = _Segment(connection) if _shared_memory_supported() else None
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message is None:
            return
        indices, epoch, batched = message
        try:
            arrays = read_samples(datasource, indices, epoch, signature, transform, seed, batched)
        except Exception as error:  # sent to the caller, which re-raises it
            connection.send(("error", error))
            continue
        try:
            _send_arrays(connection, arrays, segment)
        except OSError:  # no shared memory to be had (limits): raw bytes over the pipe from now on
            if segment is None:
                raise
            segment = None
            _send_arrays(connection, arrays, None)


class ReaderProcessPool:
    """A fixed set of reader processes, started at once from the calling thread.

    Parameters
    ----------
    num_workers : int
        Number of processes.
    context : str
        ``multiprocessing`` start method.
    datasource, signature, transform, seed
        Sent once to every process (the datasource must be picklable for ``spawn``/``forkserver``).
    """

    def __init__(
        self, num_workers: int, context: str, datasource: Any, signature: Any, transform: Any, seed: int | None
    ) -> None:
        multiprocessing_context = multiprocessing.get_context(context)
        self._idle: queue.Queue[Connection] = queue.Queue()
        self._connections: list[Connection] = []
        self._segments: dict[int, mmap.mmap] = {}  # id(connection) -> the mapped segment of its process
        self._processes = []
        for _ in range(num_workers):
            parent, child = multiprocessing_context.Pipe(duplex=True)
            process = multiprocessing_context.Process(
                target=_serve, args=(child, datasource, signature, transform, seed), daemon=True
            )
            process.start()
            child.close()
            self._processes.append(process)
            self._connections.append(parent)
            self._idle.put(parent)

    def read(self, indices: list[int], epoch: int, batched: bool) -> list[np.ndarray]:
        """Read in the next idle process; blocks (without the GIL) until it answers."""
        connection = self._idle.get()
        try:
            connection.send((indices, epoch, batched))
            status, payload = connection.recv()
            if status == "segment":  # the process made a new segment: map it, then the batch follows
                descriptor = reduction.recv_handle(connection)
                try:
                    self._segments[id(connection)] = mmap.mmap(descriptor, payload)
                finally:
                    os.close(descriptor)
                status, payload = connection.recv()
            if status == "error":
                raise payload
            arrays = []
            for entry in payload:
                if entry[0] == _PICKLED:
                    arrays.append(entry[1])
                elif entry[0] == _SHARED:
                    shape, dtype, offset = entry[1], np.dtype(entry[2]), entry[3]
                    source = np.ndarray(shape, dtype=dtype, buffer=self._segments[id(connection)], offset=offset)
                    arrays.append(source.copy())  # an array of its own: the segment is rewritten next time
                else:
                    array = np.empty(entry[1], dtype=np.dtype(entry[2]))
                    connection.recv_bytes_into(array.reshape(-1).view(np.uint8))  # a flat byte view
                    arrays.append(array)
            return arrays
        except EOFError as error:
            raise RuntimeError(
                "a reader process of the tf.data pipeline died; check its memory use, or use num_workers=0"
            ) from error
        finally:
            self._idle.put(connection)

    def close(self) -> None:
        """Ask the processes to stop and wait for them (a second call does nothing)."""
        for connection in self._connections:
            try:
                connection.send(None)
                connection.close()
            except OSError:
                pass
        for process in self._processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
        self._connections, self._processes = [], []
        self._segments.clear()
