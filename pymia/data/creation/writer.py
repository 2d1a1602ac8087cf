"""Writers put the dataset entries (arrays, strings, attributes) into a file.

:class:`Writer` is the interface the creation callbacks use; :class:`Hdf5Writer` writes pymia's HDF5
layout atomically: everything goes into a temporary file next to the target, which is renamed onto
the target only when the writer is closed without error.
"""

from __future__ import annotations

import abc
import contextlib
import os
import pathlib
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import h5py
import numpy as np

import pymia.data.definition as defs
from pymia.data.storage.hdf5_writer import DEFAULT_LAYOUT, Hdf5Layout, create_array_dataset, string_dtype
from pymia.errors import InvalidInputError, MissingFileError, OutputExistsError, PymiaError

__all__ = ["Hdf5Writer", "Writer", "get_writer", "write_offset_tables", "writer_registry"]


class Writer(abc.ABC):
    """Interface of dataset writers; use as a context manager (``with get_writer(path) as writer:``).

    Leaving the ``with`` block normally commits the file; leaving it by an exception discards it.
    """

    def __enter__(self) -> Writer:
        self.open()
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    @abc.abstractmethod
    def open(self) -> None:
        """Start writing."""

    @abc.abstractmethod
    def close(self) -> None:
        """Finish writing and commit the file."""

    def abort(self) -> None:
        """Stop writing and discard everything written (default: same as :meth:`close`)."""
        self.close()

    @abc.abstractmethod
    def reserve(self, entry: str, shape: tuple[int, ...], dtype: Any = None) -> None:
        """Create an empty dataset ``entry`` of ``shape``; ``dtype=str`` for strings."""

    @abc.abstractmethod
    def fill(self, entry: str, data: Any, index: Any = None) -> None:
        """Write ``data`` into the reserved dataset ``entry`` at ``index``.

        ``index`` is a numpy index or an :class:`~pymia.data.indexexpression.IndexExpression` (as in
        pymia 0.3.4); ``None`` fills the whole dataset.
        """

    @abc.abstractmethod
    def write(self, entry: str, data: Any, dtype: Any = None) -> None:
        """Create dataset ``entry`` holding ``data`` (``dtype=str`` for strings)."""

    def write_attribute(self, name: str, value: Any) -> None:  # noqa: B027 - optional, see below
        """Set a root attribute of the file (format version, provenance).

        Not abstract, so that writers written for pymia 0.3.4 (which had no attributes) still work;
        they just do not store the attributes.
        """


class Hdf5Writer(Writer):
    """Write a pymia HDF5 dataset, atomically.

    Parameters
    ----------
    file_path : path-like
        The dataset file to create.
    overwrite : bool, default False
        Replace an existing ``file_path``. Without it an existing file raises
        :class:`~pymia.errors.OutputExistsError` and is left untouched.
    layout : Hdf5Layout, optional
        Chunking and compression of the voxel datasets (``data/...`` arrays with 3 or more axes).
        Default :data:`~pymia.data.storage.hdf5_writer.DEFAULT_LAYOUT` (contiguous, uncompressed).

    Notes
    -----
    Writing goes to ``.<name>.partial-<random>`` in the target folder; :meth:`close` renames it onto
    ``file_path``. An interrupted run leaves at most that hidden partial file, never a file that looks
    complete.
    """

    def __init__(
        self, file_path: str | os.PathLike, *, overwrite: bool = False, layout: Hdf5Layout | None = None
    ) -> None:
        self.file_path = pathlib.Path(file_path)
        self.overwrite = overwrite
        self.layout = layout if layout is not None else DEFAULT_LAYOUT
        self._file: h5py.File | None = None
        self._temp_path: pathlib.Path | None = None

    def open(self) -> None:
        if self._file is not None:
            return
        check_output_path(self.file_path, overwrite=self.overwrite)
        self._temp_path = self.file_path.with_name(f".{self.file_path.name}.partial-{uuid.uuid4().hex[:12]}")
        try:
            self._file = h5py.File(self._temp_path, "w", libver="latest")
        except OSError as error:
            raise MissingFileError(
                f"cannot create the output file in '{self.file_path.parent}' ({error}); choose a writable folder"
            ) from None
        self._file.attrs[defs.ATTR_DATA_LAYOUT] = self.layout.describe()

    @property
    def file(self) -> h5py.File:
        """The open HDF5 file (the temporary one until :meth:`close`)."""
        if self._file is None:
            raise PymiaError("the writer is not open; use it as a context manager or call open() first")
        return self._file

    def close(self) -> None:
        if self._file is None:
            return
        write_offset_tables(self._file)
        self._file.close()
        self._file = None
        # re-check: a file may have appeared while writing; never replace it without overwrite
        if self.file_path.exists() and not self.overwrite:
            self._remove_temp()
            raise OutputExistsError(
                f"output file '{self.file_path}' was created by someone else while writing; "
                "nothing was written, pass overwrite=True (--overwrite) to replace it"
            )
        os.replace(self._temp_path, self.file_path)
        self._temp_path = None

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._remove_temp()

    def _remove_temp(self) -> None:
        if self._temp_path is not None and self._temp_path.exists():
            self._temp_path.unlink()
        self._temp_path = None

    def __del__(self) -> None:
        # a writer dropped without close() (e.g. interrupted run) leaves no partial file behind
        with contextlib.suppress(Exception):  # best effort, also at interpreter shutdown
            self.abort()

    def reserve(self, entry: str, shape: tuple[int, ...], dtype: Any = None) -> None:
        self.file.create_dataset(entry, shape=tuple(shape), dtype=_h5_dtype(dtype))

    def fill(self, entry: str, data: Any, index: Any = None) -> None:
        dataset = self.file[entry]
        data = _as_storable(data)
        index = getattr(index, "expression", index)  # IndexExpression of pymia 0.3.4 scripts
        if index is None:
            dataset[...] = data
        else:
            dataset[index] = data

    def write(self, entry: str, data: Any, dtype: Any = None) -> None:
        data = _as_storable(data, dtype)
        if entry.startswith("data/"):
            create_array_dataset(self.file, entry, data, self.layout)
        else:
            self.file.create_dataset(entry, data=data, dtype=_h5_dtype(dtype) if data.dtype.kind == "O" else None)

    def write_attribute(self, name: str, value: Any) -> None:
        self.file.attrs[name] = value


def write_offset_tables(file: h5py.File) -> None:
    """Write ``meta/storage/<category>_offsets`` for every ``data/<category>`` of one numeric dtype.

    The table holds each subject's byte offset in the file (-1 where the dataset is chunked,
    compressed, unallocated or missing), so a reader maps a subject's voxels without opening its
    HDF5 dataset: at tens of thousands of subjects that lookup would dominate the first read.
    """
    if defs.LOC_SUBJECT not in file or "data" not in file:
        return
    n_subjects = len(file[defs.LOC_SUBJECT])
    for category, group in file["data"].items():
        if not isinstance(group, h5py.Group):
            continue
        offsets = np.full(n_subjects, -1, dtype=np.int64)
        dtypes = set()
        for index in range(n_subjects):
            key = defs.subject_key(index, n_subjects).encode()
            if key.decode() not in group:
                continue
            dataset_id = h5py.h5d.open(group.id, key)
            dtypes.add(dataset_id.dtype)
            offset = dataset_id.get_offset()
            if offset is not None:
                offsets[index] = offset
        if len(dtypes) != 1 or (offsets < 0).all():
            continue
        (dtype,) = dtypes
        if dtype.kind not in "biuf" or dtype.metadata:
            continue
        table = file.create_dataset(defs.LOC_OFFSETS_PLACEHOLDER.format(category), data=offsets)
        table.attrs["dtype"] = dtype.str


def check_output_path(file_path: pathlib.Path, *, overwrite: bool) -> None:
    """Raise a pymia error if ``file_path`` cannot be written (exists, folder missing or read-only)."""
    if file_path.is_dir():
        raise OutputExistsError(f"output '{file_path}' is a folder; give a file name such as '{file_path}/dataset.h5'")
    if file_path.exists() and not overwrite:
        raise OutputExistsError(
            f"output file '{file_path}' exists; pass overwrite=True (--overwrite) to replace it or choose another name"
        )
    folder = file_path.parent
    if not folder.is_dir():
        raise MissingFileError(f"output folder '{folder}' does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise MissingFileError(f"output folder '{folder}' is not writable; choose another output path")


def _h5_dtype(dtype: Any) -> Any:
    if dtype is str or (dtype is not None and np.dtype(dtype).kind in "OU"):
        return string_dtype()
    return dtype


def _as_storable(data: Any, dtype: Any = None) -> np.ndarray:
    """Turn data into an array h5py can store; strings become object arrays of ``str``."""
    if dtype is str or (isinstance(data, (str, bytes))) or _is_string_sequence(data):
        return np.array(data, dtype=object)
    array = np.asarray(data)
    if array.dtype.kind == "U":
        return array.astype(object)
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    return array


def _is_string_sequence(data: Any) -> bool:
    if isinstance(data, np.ndarray):
        return data.dtype.kind in "OU"
    if isinstance(data, (list, tuple)) and data:
        first = data[0]
        while isinstance(first, (list, tuple)) and first:
            first = first[0]
        return isinstance(first, str)
    return False


#: File extension → writer class, used by :func:`get_writer`.
writer_registry: dict[str, Callable[..., Writer]] = {".h5": Hdf5Writer, ".hdf5": Hdf5Writer}


def get_writer(file_path: str | os.PathLike, **options: Any) -> Writer:
    """Return the writer for ``file_path`` by its extension (``.h5``, ``.hdf5``).

    Parameters
    ----------
    file_path : path-like
        The dataset file to create.
    **options
        Passed to the writer (for :class:`Hdf5Writer`: ``overwrite``, ``layout``).
    """
    suffix = pathlib.Path(file_path).suffix.lower()
    if suffix not in writer_registry:
        raise InvalidInputError(
            f"no writer for file extension {suffix!r} of '{file_path}'; use one of {sorted(writer_registry)}"
        )
    return writer_registry[suffix](file_path, **options)


def strings(values: Sequence[Any]) -> np.ndarray:
    """Return ``values`` as an object array of ``str`` (what h5py stores as vlen UTF-8)."""
    return np.array([str(v) for v in values], dtype=object)
