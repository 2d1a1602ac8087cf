"""Read voxel data from the original image files listed in a (meta-only) dataset."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import SimpleITK as sitk

import pymia.data.definition as defs
from pymia.data.extraction.extractor_base import Extractor
from pymia.data.extraction.sample_expression import read_sample
from pymia.data.storage.hdf5_reader import read_region
from pymia.errors import DatasetFormatError, MissingFileError

__all__ = ["FilesystemDataExtractor", "load_image_array"]


def load_image_array(file_path: str, category: str) -> np.ndarray:
    """Default loader: read an image with SimpleITK and return its array in numpy order (z, y, x[, c])."""
    if not os.path.exists(file_path):
        raise MissingFileError(
            f"image file '{file_path}' of category '{category}' does not exist; "
            "pass override_file_root if the files have moved"
        )
    return sitk.GetArrayFromImage(sitk.ReadImage(file_path))


class FilesystemDataExtractor(Extractor):
    """Extract data of a category from the raw files the dataset was created from.

    Parameters
    ----------
    categories : sequence of str, default ('images',)
        Categories to read; their files come from ``meta/files/<category>_files``.
    load_fn : callable, optional
        ``load_fn(file_path, category) -> numpy.ndarray`` in numpy order; default SimpleITK.
    ignore_indexing : bool, default False
        Return whole volumes regardless of the sample's region.
    override_file_root : str, optional
        Use this folder instead of the stored ``meta/files/file_root``.

    Notes
    -----
    The entries of a category are stacked on a trailing channel axis, as in the dataset. The volumes
    of the most recent subject are kept in memory, so consecutive slices of one subject are loaded once.
    """

    def __init__(
        self,
        categories: Sequence[str] = (defs.KEY_IMAGES,),
        load_fn: Callable[[str, str], np.ndarray] | None = None,
        ignore_indexing: bool = False,
        override_file_root: str | None = None,
    ) -> None:
        self.categories = tuple(categories)
        self.load_fn = load_fn or load_image_array
        self.ignore_indexing = ignore_indexing
        self.override_file_root = override_file_root
        self._cached: tuple[int, str, np.ndarray] | None = None

    def _volume(self, reader: Any, category: str, subject_index: int) -> np.ndarray:
        if self._cached is not None and self._cached[:2] == (subject_index, category):
            return self._cached[2]
        location = defs.LOC_FILES_PLACEHOLDER.format(category)
        if not reader.has(location):
            raise DatasetFormatError(
                f"the dataset stores no file paths for category '{category}' ('{location}' missing; anonymized?)"
            )
        root = self.override_file_root
        if root is None:
            root = str(reader.meta(defs.LOC_FILES_ROOT)) if reader.has(defs.LOC_FILES_ROOT) else ""
        files = [str(f) for f in np.atleast_1d(reader.meta(location)[subject_index])]
        arrays = []
        for file in files:
            array = np.asarray(self.load_fn(os.path.join(root, file), category))
            arrays.append(array)
        volume = np.stack(arrays, axis=-1)  # scalar images; entries become channels
        self._cached = (subject_index, category, volume)
        return volume

    def extract(self, reader: Any, params: dict[str, Any], extracted: dict[str, Any]) -> None:
        subject_index = params[defs.KEY_SUBJECT_INDEX]
        index_expr = None if self.ignore_indexing else params.get(defs.KEY_INDEX_EXPR)
        for category in self.categories:
            volume = self._volume(reader, category, subject_index)
            read_box = functools.partial(read_region, volume, fill_value=params.get("fill_value", 0))
            extracted[category] = read_sample(read_box, index_expr, volume.shape)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_cached"] = None
        return state
