"""Read a pymia HDF5 dataset: subjects, metadata and regions of the per-subject data arrays.

:class:`Hdf5Reader` is the storage engine behind :class:`pymia.data.extraction.PymiaDatasource`. It
keeps one :class:`~pymia.data.storage.file_manager.Hdf5FileManager` (lazy, per process, picklable),
caches the metadata arrays it has read, and reads boxes of ``data/<category>/<k>`` that may reach
outside the volume (the outside is filled with a constant). The 0.3.4 interface (``Reader``,
``read(entry, index)``, ``get_subject_entries``, ``get_shape``, ``get_subjects``, ``has``) is kept.
"""

from __future__ import annotations

import abc
import collections
import os
from collections.abc import Callable
from typing import Any

import h5py
import numpy as np

import pymia.data.definition as defs
from pymia.data.conversion import ImageProperties
from pymia.data.indexexpression import IndexExpression
from pymia.data.storage.file_manager import Hdf5FileManager
from pymia.errors import DatasetFormatError, InvalidInputError

__all__ = ["Hdf5Reader", "Reader", "get_reader", "read_region", "reader_registry"]


class Reader(abc.ABC):
    """Base class of dataset readers (the pymia 0.3.4 interface).

    Parameters
    ----------
    file_path : str or os.PathLike
        The dataset file.
    category : str, default 'images'
        The category whose per-subject entries :meth:`get_subject_entries` lists and whose shape
        :meth:`get_shape` returns.
    """

    def __init__(self, file_path: str | os.PathLike[str], category: str = defs.KEY_IMAGES) -> None:
        self.file_path = os.fspath(file_path)
        self.category = category

    @abc.abstractmethod
    def get_subject_entries(self) -> list[str]:
        """The dataset paths of the subjects' data of :attr:`category` (e.g. ``data/images/0``)."""

    @abc.abstractmethod
    def get_shape(self, subject_index: int) -> list[int]:
        """The numpy shape of a subject's data of :attr:`category`, including the channel axis."""

    @abc.abstractmethod
    def get_subjects(self) -> list[str]:
        """The subject identifiers, in dataset order."""

    @abc.abstractmethod
    def read(self, entry: str, index: IndexExpression | None = None) -> Any:
        """Read ``entry`` (a dataset path), whole or at ``index``; strings come back as ``str``."""

    @abc.abstractmethod
    def has(self, entry: str) -> bool:
        """Whether ``entry`` exists in the dataset."""

    @abc.abstractmethod
    def open(self) -> None:
        """Open the dataset (done lazily on first access anyway)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Close the dataset."""

    def __enter__(self) -> Reader:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _decode(value: Any) -> Any:
    """Turn h5py's ``bytes`` (scalars or object arrays) into ``str``."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray) and value.dtype.kind in "OS":
        flat = [v.decode("utf-8") if isinstance(v, bytes) else v for v in value.ravel().tolist()]
        out = np.empty(len(flat), dtype=object)
        out[:] = flat
        return out.reshape(value.shape)
    return value


def _is_string_dataset(dataset: h5py.Dataset) -> bool:
    return h5py.check_string_dtype(dataset.dtype) is not None or dataset.dtype.kind in "OS"


class Hdf5Reader(Reader):
    """Reader of pymia HDF5 datasets (format version 2 and files written by pymia 0.3.4).

    Parameters
    ----------
    file_path : str or os.PathLike
        The dataset file.
    category : str, default 'images'
        The category that defines subject entries and shapes (0.3.4 interface).
    use_mmap : bool, default True
        Read contiguous, uncompressed datasets through a memory map (see
        :class:`~pymia.data.storage.file_manager.Hdf5FileManager`).
    locking : bool, optional
        HDF5 file locking (``False`` for read-only or network file systems).
    rdcc_nbytes : int, optional
        HDF5 chunk cache size per dataset in bytes, for chunked datasets.

    Notes
    -----
    The reader is cheap to create and to pickle: the file opens on first access in each process.
    """

    def __init__(
        self,
        file_path: str | os.PathLike[str],
        category: str = defs.KEY_IMAGES,
        *,
        use_mmap: bool = True,
        locking: bool | None = None,
        rdcc_nbytes: int | None = None,
    ) -> None:
        super().__init__(file_path, category)
        self.files = Hdf5FileManager(self.file_path, use_mmap=use_mmap, locking=locking, rdcc_nbytes=rdcc_nbytes)
        self._meta_cache: dict[str, Any] = {}
        self._data_cache: dict[tuple[str, int], Any] = {}
        self._open_datasets: collections.deque[tuple[str, int]] = collections.deque()
        self._pid: int | None = None
        self._keys: dict[str, list[str]] = {}

    # -- 0.3.4 interface --------------------------------------------------------------------------
    def open(self) -> None:
        """Open the file in this process (otherwise done on first access)."""
        _ = self.files.file

    def close(self) -> None:
        """Close the file in this process and forget cached handles (metadata stays cached)."""
        self._data_cache.clear()
        self._open_datasets.clear()
        self.files.close()

    def has(self, entry: str) -> bool:
        """Whether ``entry`` (group or dataset path) exists."""
        return self.files.has(entry)

    def get_subjects(self) -> list[str]:
        """Subject identifiers as ``str``, in dataset order (``meta/subjects``)."""
        return list(self.meta(defs.LOC_SUBJECT))

    def get_subject_entries(self) -> list[str]:
        """Dataset paths ``data/<category>/<k>`` of every subject, in subject order."""
        base = defs.LOC_DATA_PLACEHOLDER.format(self.category)
        return [f"{base}/{key}" for key in self._subject_keys(self.category)]

    def get_shape(self, subject_index: int) -> list[int]:
        """Numpy shape (with channel axis) of the subject's :attr:`category` data."""
        return [int(s) for s in self.shapes(self.category)[subject_index]]

    def read(self, entry: str, index: IndexExpression | None = None) -> Any:
        """Read dataset ``entry`` whole or at ``index`` (0.3.4 interface); strings decoded to ``str``."""
        dataset = self.files.dataset(entry)
        source: Any = dataset.asstr() if _is_string_dataset(dataset) else self.files.array(entry)
        if index is None:
            value = source[()]
        else:
            value = source[index.expression]
        if isinstance(value, np.ndarray) and value.base is not None and not value.flags.owndata:
            value = np.array(value)  # views into the memory map must not escape
        return _decode(value)

    # -- metadata ---------------------------------------------------------------------------------
    @property
    def n_subjects(self) -> int:
        """Number of subjects in the dataset."""
        return len(self.meta(defs.LOC_SUBJECT))

    @property
    def format_version(self) -> int:
        """``pymia_format_version`` of the file; 1 for files written by pymia 0.3.4."""
        return int(self.files.file.attrs.get(defs.ATTR_FORMAT_VERSION, defs.LEGACY_FORMAT_VERSION))

    @property
    def is_meta_only(self) -> bool:
        """Whether the file holds only metadata (image voxels are read from the original files)."""
        return bool(self.files.file.attrs.get(defs.ATTR_META_ONLY, False))

    def meta(self, entry: str) -> Any:
        """The whole metadata dataset ``entry``, read once and cached (strings decoded)."""
        try:
            return self._meta_cache[entry]
        except KeyError:
            pass
        dataset = self.files.dataset(entry)
        value = dataset.asstr()[()] if _is_string_dataset(dataset) else dataset[()]
        value = _decode(value)
        self._meta_cache[entry] = value
        return value

    def categories(self) -> list[str]:
        """The categories stored under ``data/`` or, for meta-only files, under ``meta/names``."""
        file = self.files.file
        if "data" in file and len(file["data"]) > 0:
            return list(file["data"].keys())
        if "meta/names" in file:
            return [name[: -len("_names")] for name in file["meta/names"] if name.endswith("_names")]
        return []

    def names(self, category: str) -> list[str]:
        """Entry names of ``category`` (``meta/names/<category>_names``), e.g. ``['T1', 'T2']``."""
        return [str(n) for n in np.atleast_1d(self.meta(defs.LOC_NAMES_PLACEHOLDER.format(category)))]

    def shapes(self, category: str = defs.KEY_IMAGES) -> np.ndarray:
        """Numpy shapes (n, ndim) of ``data/<category>/<k>`` for all subjects, int64.

        From ``meta/shapes/<category>_shapes`` (0.3.4 wrote uint16; converted), else from the data
        datasets themselves.
        """
        key = f"__shapes__/{category}"
        if key in self._meta_cache:
            return self._meta_cache[key]
        location = defs.LOC_SHAPES_PLACEHOLDER.format(category)
        if self.files.has(location):
            shapes = np.asarray(self.meta(location), dtype=np.int64)
            if shapes.ndim == 1:
                shapes = shapes[:, None]
        else:
            shapes = np.array(
                [self.files.dataset(entry).shape for entry in self._entries(category)], dtype=np.int64
            ).reshape(self.n_subjects, -1)
        self._meta_cache[key] = shapes
        return shapes

    def is_image_category(self, category: str) -> bool:
        """Whether ``category`` holds voxel data on the image grid (else e.g. numbers or strings).

        Image categories are indexed like the images; others (``numerical``, demographics) are read
        whole for every sample.
        """
        key = "__is_image__/" + category
        cached = self._meta_cache.get(key)
        if cached is not None:
            return cached
        if key not in self._meta_cache:
            result = True
            if category != self.category:
                try:
                    own, reference = self.shapes(category), self.shapes(self.category)
                    result = own.shape == reference.shape and np.array_equal(own[:, :-1], reference[:, :-1])
                except DatasetFormatError:
                    result = False
            self._meta_cache[key] = result
        return self._meta_cache[key]

    def image_properties(self, subject_index: int) -> ImageProperties:
        """Geometry (size, origin, spacing, direction in ITK order) of a subject's images."""
        sizes = np.asarray(self.meta(defs.LOC_IMGPROP_SHAPE))
        origins = np.asarray(self.meta(defs.LOC_IMGPROP_ORIGIN), dtype=np.float64)
        spacings = np.asarray(self.meta(defs.LOC_IMGPROP_SPACING), dtype=np.float64)
        directions = np.asarray(self.meta(defs.LOC_IMGPROP_DIRECTION), dtype=np.float64)
        self._check_subject(subject_index)
        components = 1
        if self.files.has(defs.LOC_SHAPES_PLACEHOLDER.format(defs.KEY_IMAGES)):
            components = int(self.shapes(defs.KEY_IMAGES)[subject_index][-1])
        return ImageProperties.from_geometry(
            [int(s) for s in sizes[subject_index]],
            origins[subject_index].tolist(),
            spacings[subject_index].tolist(),
            directions[subject_index].tolist(),
            components=components,
        )

    # -- data -------------------------------------------------------------------------------------
    def _subject_keys(self, category: str) -> list[str]:
        try:
            return self._keys[category]
        except KeyError:
            pass
        n = self.n_subjects
        group_path = defs.LOC_DATA_PLACEHOLDER.format(category)
        keys = [defs.subject_key(i, n) for i in range(n)]
        if n and not self.files.has(f"{group_path}/{keys[0]}") and self.files.has(group_path):
            # Written with another key width: order the stored keys numerically.
            keys = sorted(self.files.file[group_path].keys(), key=int)
        self._keys[category] = keys
        return keys

    def _entries(self, category: str) -> list[str]:
        base = defs.LOC_DATA_PLACEHOLDER.format(category)
        return [f"{base}/{key}" for key in self._subject_keys(category)]

    def _check_subject(self, subject_index: int) -> None:
        n = self.n_subjects
        if not 0 <= subject_index < n:
            raise InvalidInputError(
                f"subject index {subject_index} is out of range for a dataset of {n} subjects; use 0..{n - 1}"
            )

    def data(self, category: str, subject_index: int) -> Any:
        """An indexable array of ``data/<category>/<k>`` (memory-mapped view or ``h5py.Dataset``)."""
        if self._pid != os.getpid():
            # New process (fork) or first use: handles cached by another process must not be used.
            self._data_cache = {}
            self._open_datasets = collections.deque()
            self._pid = os.getpid()
        try:
            return self._data_cache[(category, subject_index)]
        except KeyError:
            pass
        self._check_subject(subject_index)
        table = self._offset_table(category)
        if table is not None and table[0][subject_index] >= 0:
            offsets, dtype, shapes = table
            view = self.files.view(int(offsets[subject_index]), tuple(shapes[subject_index].tolist()), dtype)
            if view is not None:
                self._data_cache[(category, subject_index)] = view
                return view
        key = self._subject_keys(category)[subject_index]
        entry = f"{defs.LOC_DATA_PLACEHOLDER.format(category)}/{key}"
        try:
            array = self.files.array(entry)
        except DatasetFormatError:
            raise DatasetFormatError(
                f"'{self.file_path}' has no '{entry}' (categories present: {self.categories()}); "
                "extract only stored categories, or use FilesystemDataExtractor for meta-only datasets"
            ) from None
        if isinstance(array, np.ndarray):
            # A memory-mapped view: a few hundred bytes, so views of every subject are kept.
            self._data_cache[(category, subject_index)] = array
            return array
        # Whether a category holds strings is the same for every subject: ask HDF5 once per category.
        string_key = "__is_string__/" + category
        if string_key not in self._meta_cache:
            self._meta_cache[string_key] = _is_string_dataset(array)
        if self._meta_cache[string_key]:
            array = array.asstr()
        self._data_cache[(category, subject_index)] = array
        self._open_datasets.append((category, subject_index))
        if len(self._open_datasets) > self.files.max_open_datasets:
            # keep the number of open HDF5 datasets bounded
            self._data_cache.pop(self._open_datasets.popleft(), None)
        return array

    def _offset_table(self, category: str) -> tuple[np.ndarray, np.dtype, np.ndarray] | None:
        """``(offsets, dtype, shapes)`` of ``meta/storage/<category>_offsets`` if present and trustworthy.

        The table lets a subject be mapped without opening its HDF5 dataset. It is checked once per
        process against up to three datasets (first, middle, last): a file rewritten by another tool
        (e.g. ``h5repack``) moves the data, and then the table is ignored.
        """
        cache_key = "__offsets__/" + category
        if cache_key in self._meta_cache:
            return self._meta_cache[cache_key]
        table = None
        location = defs.LOC_OFFSETS_PLACEHOLDER.format(category)
        if self.files.use_mmap and self.files.has(location):
            offsets = np.asarray(self.meta(location), dtype=np.int64).reshape(-1)
            dtype = np.dtype(self.files.dataset(location).attrs.get("dtype", "V1"))
            shapes = self.shapes(category)
            if len(offsets) == len(shapes) == self.n_subjects and self._offsets_agree(category, offsets, dtype, shapes):
                table = (offsets, dtype, shapes)
        self._meta_cache[cache_key] = table
        return table

    def _offsets_agree(self, category: str, offsets: np.ndarray, dtype: np.dtype, shapes: np.ndarray) -> bool:
        stored = np.flatnonzero(offsets >= 0)
        if len(stored) == 0:
            return False
        base = defs.LOC_DATA_PLACEHOLDER.format(category)
        keys = self._subject_keys(category)
        for index in {int(stored[0]), int(stored[len(stored) // 2]), int(stored[-1])}:
            try:
                offset, shape, stored_dtype = self.files.storage(f"{base}/{keys[index]}")
            except DatasetFormatError:
                return False
            if offset != offsets[index] or shape != tuple(shapes[index].tolist()) or stored_dtype != dtype:
                return False
        return True

    def read_box(
        self,
        category: str,
        subject_index: int,
        index_expr: IndexExpression | None,
        *,
        fill_value: float = 0,
        pad_fn: Callable[[np.ndarray, tuple[tuple[int, int], ...]], np.ndarray] | None = None,
    ) -> np.ndarray:
        """Read the region ``index_expr`` of a subject's ``category`` data into a new array.

        Parameters
        ----------
        category : str
            Category name, e.g. ``'images'``.
        subject_index : int
            Zero-based subject index.
        index_expr : IndexExpression or None
            The region in numpy axis order (z, y, x); ``None`` reads everything. Boxes may reach
            outside the volume: the outside is ``fill_value`` (or produced by ``pad_fn``).
        fill_value : float, default 0
            Value of voxels outside the volume.
        pad_fn : callable, optional
            ``pad_fn(inside, pad_width) -> padded`` for other border modes (e.g. a ``numpy.pad``
            mode); ``pad_width`` has one ``(before, after)`` pair per axis of ``inside``.

        Returns
        -------
        numpy.ndarray
            Shape of the box without squeezed axes, plus the trailing channel axis; the stored dtype.
            Strings are returned as an object array of ``str``.
        """
        return read_region(self.data(category, subject_index), index_expr, fill_value=fill_value, pad_fn=pad_fn)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_data_cache"] = {}  # holds h5py objects / memory-map views
        state["_open_datasets"] = collections.deque()
        state["_pid"] = None
        return state

    def __repr__(self) -> str:
        return f"Hdf5Reader('{self.file_path}')"


def _owned(value: Any) -> Any:
    """A value the caller may keep and modify: copies views of the memory map, decodes strings."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "OS":
            return _decode(value)
        if not value.flags.owndata:
            return np.array(value)
    return value


def _inside(expression: tuple[slice | int, ...], shape: tuple[int, ...]) -> bool:
    for e, size in zip(expression, shape):
        if type(e) is slice:
            if e.step not in (None, 1):
                return False
            if (e.start is not None and e.start < 0) or (e.stop is not None and (e.stop > size or e.stop < 0)):
                return False
        elif not 0 <= e < size:
            return False
    return True


def read_region(
    array: Any,
    index_expr: IndexExpression | None,
    *,
    fill_value: float = 0,
    pad_fn: Callable[[np.ndarray, tuple[tuple[int, int], ...]], np.ndarray] | None = None,
) -> np.ndarray:
    """Read the box ``index_expr`` of an indexable ``array`` into a new array (see ``Hdf5Reader.read_box``).

    ``array`` is anything with numpy basic indexing and ``shape``/``dtype`` (a numpy array, a
    memory-mapped view, an ``h5py.Dataset``). Parts of the box outside ``array`` are ``fill_value``
    or produced by ``pad_fn(inside, pad_width)``; the inside part is read straight into the result.
    """
    if index_expr is None:
        return _owned(array[()])
    expression = index_expr.expression
    if _inside(expression, array.shape):
        return _owned(array[expression])
    shape = tuple(array.shape)
    n_axes = len(index_expr.expression)
    spatial = shape[:n_axes]
    box = index_expr.box(spatial)
    source, target = index_expr.clip(spatial)
    box_shape = tuple(stop - start for start, stop in box) + shape[n_axes:]
    squeeze = index_expr.squeeze_axes
    if any(s.stop <= s.start for s in source):
        inside = None
    else:
        inside = array[source]
    if pad_fn is None:
        out = np.full(box_shape, fill_value, dtype=array.dtype)
        if inside is not None:
            out[target] = inside
    else:
        if inside is None:
            raise InvalidInputError(
                f"the box {box} lies completely outside the volume {spatial}; "
                "a border-mode pad function needs at least one voxel inside"
            )
        pad_width = tuple((t.start, b - t.stop) for t, b in zip(target, box_shape)) + ((0, 0),) * (
            len(box_shape) - n_axes
        )
        out = pad_fn(np.asarray(inside), pad_width)
    if squeeze:
        out = out.reshape(tuple(s for a, s in enumerate(box_shape) if a not in squeeze))
    return out


#: File extensions → reader class (0.3.4 name).
reader_registry: dict[str, type[Reader]] = {".h5": Hdf5Reader, ".hdf5": Hdf5Reader, ".hdf": Hdf5Reader}


def get_reader(file_path: str | os.PathLike[str], direct_open: bool = False) -> Reader:
    """Return the reader for ``file_path`` by its extension (``.h5``, ``.hdf5``, ``.hdf``).

    Parameters
    ----------
    file_path : str or os.PathLike
        The dataset file.
    direct_open : bool, default False
        Open the file now instead of on first access.
    """
    path = os.fspath(file_path)
    extension = os.path.splitext(path)[1].lower()
    if extension not in reader_registry:
        raise InvalidInputError(
            f"unknown dataset file extension '{extension}' of '{path}'; "
            f"use one of {sorted(reader_registry)} or register a reader in reader_registry"
        )
    reader = reader_registry[extension](path)
    if direct_open:
        reader.open()
    return reader
