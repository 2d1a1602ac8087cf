"""A picklable, fork-safe handle to one HDF5 file, opened lazily in each process.

:class:`Hdf5FileManager` keeps the ``h5py.File`` and the ``h5py.Dataset`` objects already looked up,
keyed by the id of the process that opened them: after a ``fork`` (DataLoader workers) the child
opens its own handle on first use, and pickling (``spawn`` workers) drops every handle. Datasets
stored contiguously and uncompressed are also exposed as zero-copy views of one read-only memory map
of the file, which is the fastest way to read any region of them and needs no HDF5 lock.
"""

from __future__ import annotations

import math
import mmap
import os
from typing import Any

import h5py
import numpy as np

from pymia.errors import DatasetFormatError, MissingFileError

__all__ = ["Hdf5FileManager"]


class Hdf5FileManager:
    """Open an HDF5 file read-only on first use in each process and cache its datasets.

    Parameters
    ----------
    path : str or os.PathLike
        The HDF5 file.
    use_mmap : bool, default True
        Serve contiguous, uncompressed numeric datasets from a memory map of the file instead of
        through h5py (same values, fewer copies, no HDF5 lock). Chunked or compressed datasets
        always go through h5py.
    locking : bool, optional
        Passed to ``h5py.File``; ``False`` allows reading from read-only or network file systems
        that do not support file locks. Default: h5py's default.
    rdcc_nbytes : int, optional
        Size of the HDF5 chunk cache per dataset in bytes (only matters for chunked data).
    max_open_datasets : int, default 1024
        At most this many ``h5py.Dataset`` objects are kept open (oldest closed first); each open
        chunked dataset may hold a chunk cache of ``rdcc_nbytes``, so datasets of tens of thousands
        of subjects must not keep all of them.

    Notes
    -----
    The handle is never shared across processes: every access checks ``os.getpid()`` and reopens
    after a fork, and :meth:`__getstate__` drops all handles.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        use_mmap: bool = True,
        locking: bool | None = None,
        rdcc_nbytes: int | None = None,
        max_open_datasets: int = 1024,
    ) -> None:
        self.path = os.fspath(path)
        self.use_mmap = use_mmap
        self.locking = locking
        self.rdcc_nbytes = rdcc_nbytes
        self.max_open_datasets = max(1, int(max_open_datasets))
        self._reset()

    def _reset(self) -> None:
        self._pid: int | None = None
        self._file: h5py.File | None = None
        self._datasets: dict[str, h5py.Dataset] = {}
        self._arrays: dict[str, Any] = {}
        self._mmap: mmap.mmap | None = None

    # -- handles ----------------------------------------------------------------------------------
    @property
    def file(self) -> h5py.File:
        """The open ``h5py.File`` of this process (opened on first access)."""
        if self._pid != os.getpid() or self._file is None:
            self._open()
        return self._file  # type: ignore[return-value]

    def _open(self) -> None:
        if self._pid is not None and self._pid != os.getpid():
            # Inherited from the parent through fork: forget (never close) the parent's handles.
            self._reset()
        if not os.path.isfile(self.path):
            raise MissingFileError(f"dataset file '{self.path}' does not exist; check the path or create it first")
        kwargs: dict[str, Any] = {}
        if self.locking is not None:
            kwargs["locking"] = self.locking
        if self.rdcc_nbytes is not None:
            kwargs["rdcc_nbytes"] = self.rdcc_nbytes
        try:
            self._file = h5py.File(self.path, "r", **kwargs)
        except OSError as error:
            raise DatasetFormatError(f"'{self.path}' cannot be opened as an HDF5 file ({error})") from error
        self._pid = os.getpid()

    @property
    def is_open(self) -> bool:
        """Whether this process holds an open handle."""
        return self._file is not None and self._pid == os.getpid()

    def close(self) -> None:
        """Close this process's handles (a later access reopens the file)."""
        if self._pid == os.getpid():
            self._arrays.clear()
            self._datasets.clear()
            # The memory map is never closed explicitly: arrays handed out earlier are views whose base is
            # the map, so an explicit close would unmap memory they still point to (a segfault on use).
            # Dropping the reference lets the map be unmapped when the last of those arrays is freed.
            self._mmap = None
            if self._file is not None:
                self._file.close()
        self._reset()

    # -- datasets ---------------------------------------------------------------------------------
    def has(self, name: str) -> bool:
        """Whether ``name`` (a group or dataset path) exists in the file."""
        return name in self._datasets or name in self.file

    def dataset(self, name: str) -> h5py.Dataset:
        """The ``h5py.Dataset`` at path ``name``, looked up once per process."""
        if self._pid != os.getpid():
            self._open()
        try:
            return self._datasets[name]
        except KeyError:
            pass
        node = h5py.Dataset(self._open_id(name))
        _bounded_insert(self._datasets, name, node, self.max_open_datasets)
        return node

    def _open_id(self, name: str) -> h5py.h5d.DatasetID:
        """Open the dataset at ``name`` with HDF5's own call: about 3× faster than ``file[name]``."""
        try:
            return h5py.h5d.open(self.file.id, name.encode())
        except Exception:  # HDF5 reports missing paths and groups in several ways: let h5py name them
            pass
        try:
            node = self.file[name]
        except KeyError:
            raise DatasetFormatError(
                f"'{self.path}' has no entry '{name}'; it was not written by pymia or lacks this category"
            ) from None
        if not isinstance(node, h5py.Dataset):
            raise DatasetFormatError(f"'{name}' in '{self.path}' is a group, not a dataset")
        return node.id

    def array(self, name: str) -> np.ndarray | h5py.Dataset:
        """An indexable array for ``name``: a zero-copy memory-mapped view where possible.

        Contiguous, uncompressed, allocated numeric datasets come back as a read-only
        ``numpy.ndarray`` view into a memory map of the file; everything else (chunked, compressed,
        string or unallocated datasets) as the ``h5py.Dataset``. Both support numpy basic indexing.
        Views cost a few hundred bytes and are all kept; at most ``max_open_datasets`` HDF5
        datasets stay open.
        """
        if self._pid != os.getpid():
            self._open()
        try:
            return self._arrays[name]
        except KeyError:
            pass
        if name in self._datasets or not self.use_mmap:
            return self.dataset(name)
        dataset_id = self._open_id(name)
        array = self._mapped(dataset_id)
        if array is None:
            dataset = h5py.Dataset(dataset_id)
            _bounded_insert(self._datasets, name, dataset, self.max_open_datasets)
            return dataset
        self._arrays[name] = array  # the HDF5 dataset is closed when dataset_id is freed
        return array

    def storage(self, name: str) -> tuple[int | None, tuple[int, ...], np.dtype]:
        """``(file offset or None, shape, dtype)`` of the dataset at ``name`` (offset only if contiguous)."""
        dataset_id = self._open_id(name)
        return dataset_id.get_offset(), tuple(dataset_id.shape), dataset_id.dtype

    def view(self, offset: int, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray | None:
        """A read-only array of ``shape`` and ``dtype`` over the file's bytes at ``offset`` (None past the end)."""
        if self._pid != os.getpid():
            self._open()
        if self._mmap is None:
            with open(self.path, "rb") as handle:
                self._mmap = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        size = math.prod(shape)
        if size == 0 or offset < 0 or offset + size * dtype.itemsize > len(self._mmap):
            return None
        return np.ndarray(shape, dtype=dtype, buffer=self._mmap, offset=offset)

    def _mapped(self, dataset_id: h5py.h5d.DatasetID) -> np.ndarray | None:
        # HDF5 gives a file offset only for contiguous, allocated storage (never for chunked, hence never
        # for compressed data); asking it first is the cheapest test, which matters at 10,000 subjects.
        offset = dataset_id.get_offset()
        if offset is None:
            return None
        dtype = dataset_id.dtype
        if dtype.kind not in "biuf" or dtype.metadata:
            return None
        return self.view(offset, tuple(dataset_id.shape), dtype)

    # -- pickling ---------------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "use_mmap": self.use_mmap,
            "locking": self.locking,
            "rdcc_nbytes": self.rdcc_nbytes,
            "max_open_datasets": self.max_open_datasets,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._reset()

    def __repr__(self) -> str:
        return f"Hdf5FileManager('{self.path}', use_mmap={self.use_mmap})"


def _bounded_insert(cache: dict[str, Any], key: str, value: Any, limit: int) -> None:
    """Insert into an insertion-ordered cache, dropping the oldest entries beyond ``limit``."""
    cache[key] = value
    while len(cache) > limit:
        del cache[next(iter(cache))]
