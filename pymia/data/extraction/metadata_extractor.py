"""Extractors of per-subject metadata: identifier, entry names, file paths, region, geometry, shape."""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from typing import Any

import numpy as np

import pymia.data.definition as defs
from pymia.data.extraction.extractor_base import Extractor

__all__ = [
    "FilesExtractor",
    "ImagePropertiesExtractor",
    "ImagePropertyShapeExtractor",
    "IndexingExtractor",
    "NamesExtractor",
    "SubjectExtractor",
]


class SubjectExtractor(Extractor):
    """Add ``subject`` (the identifier, ``str``) and ``subject_index`` (int)."""

    def extract(self, reader: Any, params: dict[str, Any], extracted: dict[str, Any]) -> None:
        subject_index = params[defs.KEY_SUBJECT_INDEX]
        extracted[defs.KEY_SUBJECT_INDEX] = subject_index
        extracted[defs.KEY_SUBJECT] = str(reader.meta(defs.LOC_SUBJECT)[subject_index])


class NamesExtractor(Extractor):
    """Add ``<category>_names``: the entry names of each category (e.g. ``['T1', 'T2']``).

    Parameters
    ----------
    cache : bool, default True
        Kept for pymia 0.3.4 compatibility; the reader caches the names anyway.
    categories : sequence of str, default ('images', 'labels')
        Categories whose names to add.
    """

    def __init__(self, cache: bool = True, categories: Sequence[str] = (defs.KEY_IMAGES, defs.KEY_LABELS)) -> None:
        self.cache = cache
        self.categories = tuple(categories)

    def extract(self, reader: Any, params: dict[str, Any], extracted: dict[str, Any]) -> None:
        for category in self.categories:
            extracted[defs.KEY_PLACEHOLDER_NAMES.format(category)] = reader.names(category)


class FilesExtractor(Extractor):
    """Add ``file_root`` and ``<category>_files``: the subject's raw files (relative to the root).

    Parameters
    ----------
    cache : bool, default True
        Kept for pymia 0.3.4 compatibility; the reader caches the paths anyway.
    categories : sequence of str, default ('images', 'labels')
        Categories whose files to add.

    Notes
    -----
    Anonymized datasets store no paths; then ``file_root`` is ``None`` and the lists are empty.
    """

    def __init__(self, cache: bool = True, categories: Sequence[str] = (defs.KEY_IMAGES, defs.KEY_LABELS)) -> None:
        self.cache = cache
        self.categories = tuple(categories)

    def extract(self, reader: Any, params: dict[str, Any], extracted: dict[str, Any]) -> None:
        subject_index = params[defs.KEY_SUBJECT_INDEX]
        has_root = reader.has(defs.LOC_FILES_ROOT)
        extracted[defs.KEY_FILE_ROOT] = str(reader.meta(defs.LOC_FILES_ROOT)) if has_root else None
        for category in self.categories:
            location = defs.LOC_FILES_PLACEHOLDER.format(category)
            files: list[str] = []
            if reader.has(location):
                files = [str(f) for f in np.atleast_1d(reader.meta(location)[subject_index])]
            extracted[defs.KEY_PLACEHOLDER_FILES.format(category)] = files


class IndexingExtractor(Extractor):
    """Add ``subject_index`` and ``index_expr`` (where the sample sits; needed for assembly).

    Parameters
    ----------
    do_pickle : bool, default False
        Store the expression pickled (``bytes``), for collate functions that cannot handle objects.
    """

    def __init__(self, do_pickle: bool = False) -> None:
        self.do_pickle = do_pickle

    def extract(self, reader: Any, params: dict[str, Any], extracted: dict[str, Any]) -> None:
        extracted[defs.KEY_SUBJECT_INDEX] = params[defs.KEY_SUBJECT_INDEX]
        index_expr = params.get(defs.KEY_INDEX_EXPR)
        extracted[defs.KEY_INDEX_EXPR] = pickle.dumps(index_expr) if self.do_pickle else index_expr


class ImagePropertiesExtractor(Extractor):
    """Add ``properties``: the :class:`~pymia.data.conversion.ImageProperties` of the subject's images.

    Parameters
    ----------
    do_pickle : bool, default False
        Store the properties pickled (``bytes``).
    """

    def __init__(self, do_pickle: bool = False) -> None:
        self.do_pickle = do_pickle

    def extract(self, reader: Any, params: dict[str, Any], extracted: dict[str, Any]) -> None:
        properties = reader.image_properties(params[defs.KEY_SUBJECT_INDEX])
        extracted[defs.KEY_PROPERTIES] = pickle.dumps(properties) if self.do_pickle else properties


class ImagePropertyShapeExtractor(Extractor):
    """Add ``shape``: the subject's image size.

    Parameters
    ----------
    numpy_format : bool, default True
        ``True``: numpy order (z, y, x); ``False``: ITK order (x, y, z).
    """

    def __init__(self, numpy_format: bool = True) -> None:
        self.numpy_format = numpy_format

    def extract(self, reader: Any, params: dict[str, Any], extracted: dict[str, Any]) -> None:
        size = [int(s) for s in np.asarray(reader.meta(defs.LOC_IMGPROP_SHAPE))[params[defs.KEY_SUBJECT_INDEX]]]
        extracted[defs.KEY_SHAPE] = tuple(reversed(size)) if self.numpy_format else tuple(size)
