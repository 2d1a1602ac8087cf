"""The write side of the HDF5 storage seam: how voxel datasets are laid out (chunks, compression).

:class:`Hdf5Layout` describes the storage of the ``data/<category>/<k>`` image datasets;
:func:`create_array_dataset` writes one array with it. The default, chosen by
``benchmarks/layout.py``, is contiguous and uncompressed: it gives the fastest reads of every kind
(axial, coronal, sagittal slices and 3-D patches through ``np.memmap`` at ``dataset.id.get_offset()``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

import h5py
import numpy as np

from pymia.errors import InvalidInputError, MissingDependencyError

__all__ = ["COMPRESSIONS", "DEFAULT_LAYOUT", "Hdf5Layout", "create_array_dataset", "string_dtype"]

#: The compression names :class:`Hdf5Layout` accepts. ``blosc-*`` need the ``hdf5plugin`` package,
#: and so does every program that reads such a file (``import hdf5plugin`` registers the filter).
COMPRESSIONS = ("gzip", "lzf", "blosc-lz4", "blosc-zstd")

_DEFAULT_CHUNK_EDGE = 32  # half a 64³ patch: the sweet spot for compressed random access (data-loading.md §3.6)


@dataclasses.dataclass(frozen=True)
class Hdf5Layout:
    """Storage of the voxel datasets (image categories) of a pymia HDF5 file.

    Parameters
    ----------
    chunks : None, 'auto' or tuple of int
        ``None``: contiguous storage (no chunking). ``'auto'``: chunks of 32 voxels per spatial axis
        with all channels in one chunk. A tuple gives the chunk size of the leading (spatial) axes in
        numpy order (z, y, x); it is clipped to the array shape and the channel axis is kept whole.
    compression : str, optional
        One of :data:`COMPRESSIONS`, or ``None`` for no compression. Compression needs chunks; with
        ``chunks=None`` the ``'auto'`` chunks are used.
    compression_level : int, optional
        Codec level (gzip 0–9, Blosc 0–9); ``None`` uses the codec's default (gzip 4, Blosc 5).
    shuffle : bool, default True
        Byte shuffle before compression (ignored without compression).
    """

    chunks: str | tuple[int, ...] | None = None
    compression: str | None = None
    compression_level: int | None = None
    shuffle: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.chunks, str) and self.chunks != "auto":
            raise InvalidInputError(f"chunks must be None, 'auto' or a tuple of ints, got {self.chunks!r}")
        if isinstance(self.chunks, Sequence) and not isinstance(self.chunks, str):
            chunks = tuple(int(c) for c in self.chunks)
            if not chunks or min(chunks) < 1:
                raise InvalidInputError(f"chunk sizes must be positive integers, got {self.chunks!r}")
            object.__setattr__(self, "chunks", chunks)
        if self.compression is not None and self.compression not in COMPRESSIONS:
            raise InvalidInputError(f"unknown compression {self.compression!r}; use one of {COMPRESSIONS} or None")
        if self.compression == "lzf" and self.compression_level is not None:
            raise InvalidInputError("lzf has no compression level; leave compression_level=None")

    @property
    def is_contiguous(self) -> bool:
        """Whether the datasets are stored contiguous and unfiltered (readable through ``np.memmap``)."""
        return self.chunks is None and self.compression is None

    def describe(self) -> str:
        """Return the layout as a JSON string (stored as the root attribute ``data_layout``)."""
        return json.dumps(dataclasses.asdict(self))

    def chunk_shape(self, shape: Sequence[int]) -> tuple[int, ...] | None:
        """Return the HDF5 chunk shape for an array of numpy ``shape`` (channel axis last), or ``None``."""
        if self.is_contiguous:
            return None
        spatial = len(shape) - 1
        edges = self.chunks if isinstance(self.chunks, tuple) else (_DEFAULT_CHUNK_EDGE,) * spatial
        if len(edges) > spatial:
            edges = edges[-spatial:]  # e.g. (32, 32, 32) given for a 2-D (y, x, c) array
        edges = (None,) * (spatial - len(edges)) + tuple(edges)
        return tuple(
            [size if edge is None else max(1, min(edge, size)) for size, edge in zip(shape[:spatial], edges)]
            + [int(shape[-1])]
        )

    def filter_options(self) -> Mapping[str, Any]:
        """Return the keyword arguments of :meth:`h5py.Group.create_dataset` for the compression."""
        if self.compression is None:
            return {}
        if self.compression in ("gzip", "lzf"):
            options: dict[str, Any] = {"compression": self.compression, "shuffle": self.shuffle}
            if self.compression == "gzip" and self.compression_level is not None:
                options["compression_opts"] = int(self.compression_level)
            return options
        try:
            import hdf5plugin
        except ImportError:
            raise MissingDependencyError(
                f"compression {self.compression!r} needs the hdf5plugin package; `pip install hdf5plugin` "
                "or choose compression='gzip', 'lzf' or None"
            ) from None
        shuffle = hdf5plugin.Blosc.SHUFFLE if self.shuffle else hdf5plugin.Blosc.NOSHUFFLE
        level = 5 if self.compression_level is None else int(self.compression_level)
        return dict(hdf5plugin.Blosc(cname=self.compression.split("-", 1)[1], clevel=level, shuffle=shuffle))


#: The default layout, chosen by measurement (see ``docs/user/hdf5-layout.rst``).
DEFAULT_LAYOUT = Hdf5Layout()


def string_dtype() -> np.dtype:
    """The HDF5 dtype of pymia's strings: variable-length UTF-8."""
    return h5py.string_dtype("utf-8")


def create_array_dataset(
    file: h5py.File | h5py.Group, path: str, array: np.ndarray, layout: Hdf5Layout = DEFAULT_LAYOUT
) -> h5py.Dataset:
    """Write ``array`` at ``path`` with ``layout`` and return the dataset.

    Parameters
    ----------
    file : h5py.File or h5py.Group
        Where to create the dataset (intermediate groups are created).
    path : str
        Dataset path, e.g. ``'data/images/0'``.
    array : numpy.ndarray
        Channel-last voxel array, e.g. (z, y, x, c) or (y, x, c). Arrays with fewer than 3 axes and
        string arrays are always stored contiguous.
    layout : Hdf5Layout
        Chunking and compression.
    """
    array = np.asarray(array)
    if array.dtype.kind in "OUS" or array.ndim < 3 or array.size == 0:
        return file.create_dataset(path, data=array, dtype=string_dtype() if array.dtype.kind in "OU" else None)
    chunks = layout.chunk_shape(array.shape)
    if chunks is None:
        return file.create_dataset(path, data=array)
    return file.create_dataset(path, data=array, chunks=chunks, **layout.filter_options())
