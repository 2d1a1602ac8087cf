"""Reader processes for the tf.data pipeline, each driven over its own pipe.

tf.data's map threads take an idle process, send it sample numbers and block on the pipe without
holding the GIL, so several reads run truly in parallel. Arrays come back as raw bytes received
straight into preallocated arrays (no pickling of the voxel data), and there is no manager thread in
between, which matters on busy machines where every hand-over between threads costs a time slice.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from pymia.data.augmentation.seeding import reseed_transforms

__all__ = ["ReaderProcessPool"]

_RAW, _PICKLED = "raw", "pickled"


def _serve(connection: Connection, datasource: Any, signature: Any, transform: Any, seed: int | None) -> None:
    """Main loop of a reader process: (indices, epoch, batched) in, header + array bytes out."""
    from pymia.data.backends.tensorflow.reading import read_samples  # the reader imports this module

    if transform is not None and seed is None:
        reseed_transforms(transform, (os.getpid(),))  # copies of one generator would repeat their draws
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
        header = [
            (_PICKLED, array) if array.dtype.hasobject else (_RAW, array.shape, array.dtype.str) for array in arrays
        ]
        connection.send(("ok", header))
        for array in arrays:
            if not array.dtype.hasobject:
                connection.send_bytes(np.ascontiguousarray(array).reshape(-1).view(np.uint8))


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
            if status == "error":
                raise payload
            arrays = []
            for entry in payload:
                if entry[0] == _PICKLED:
                    arrays.append(entry[1])
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
