"""Anonymous shared memory for handing batches from worker processes to the main process.

Used by the PyTorch batch slots (:mod:`pymia.data.backends.pytorch.shared_batches`) and the ``tf.data`` reader
processes (:mod:`pymia.data.backends.tensorflow.worker_pool`). A segment has no name anywhere (``memfd`` on
Linux; elsewhere an unlinked temporary file): nothing is left behind in ``/dev/shm``, whatever happens to the
processes, and the memory is returned when the last process unmaps it.
"""

from __future__ import annotations

import mmap
import os
import tempfile

__all__ = ["ALIGNMENT", "aligned", "anonymous_segment"]

ALIGNMENT = 64  # bytes: every array in a segment starts at a multiple of this (a cache line)


def aligned(nbytes: int) -> int:
    """``nbytes`` rounded up to a multiple of :data:`ALIGNMENT`."""
    return -(-nbytes // ALIGNMENT) * ALIGNMENT


def anonymous_segment(nbytes: int, name: str) -> tuple[int, mmap.mmap]:
    """An anonymous shared-memory file of ``nbytes`` bytes, open and mapped.

    Parameters
    ----------
    nbytes : int
        Size in bytes (> 0).
    name : str
        Shown in ``/proc/<pid>/maps`` as ``memfd:<name>`` on Linux (for debugging); not a file name.

    Returns
    -------
    tuple of (int, mmap.mmap)
        The descriptor (the caller closes it, e.g. after passing it to another process) and the mapping.
    """
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create(name, os.MFD_CLOEXEC)
    else:  # pragma: no cover - macOS: a file in /dev/shm or the temporary folder, unlinked at once
        folder = "/dev/shm" if os.path.isdir("/dev/shm") else None
        with tempfile.TemporaryFile(dir=folder) as file:
            fd = os.dup(file.fileno())
    try:
        os.ftruncate(fd, nbytes)
        return fd, mmap.mmap(fd, nbytes)
    except BaseException:
        os.close(fd)
        raise
