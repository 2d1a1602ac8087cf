"""Callbacks receive each subject from the traverser and write it (data, names, geometry, files, hashes).

:func:`get_default_callbacks` composes the callbacks that write a complete pymia dataset; each
callback writes one part of the layout described in ``docs/user/hdf5-layout.rst``.
"""

from __future__ import annotations

import datetime
import os
import pathlib
from collections.abc import Iterable

import numpy as np

import pymia
import pymia.data.definition as defs
from pymia.data.creation.writer import Writer, strings
from pymia.data.subjectfile import as_path
from pymia.errors import InvalidInputError

__all__ = [
    "Callback",
    "ComposeCallback",
    "MonitoringCallback",
    "WriteDataCallback",
    "WriteEssentialCallback",
    "WriteFilesCallback",
    "WriteHashesCallback",
    "WriteImageInformationCallback",
    "WriteNamesCallback",
    "get_default_callbacks",
]

# Keys of the parameter dictionaries the traverser passes, beyond those of pymia.data.definition.
KEY_HASHES = "hashes"  # on_subject: {category: [sha256 hex per entry]}
KEY_SUBJECT_HASH = "subject_hash"  # on_subject: sha256 hex over the subject's entries
KEY_SUBJECTS = "subjects"  # on_start/on_end: subject ids as written (pseudonyms when anonymized)
KEY_N_SUBJECTS = "n_subjects"
KEY_TRANSFORM = "transform"  # on_start: repr of the creation transform ('' if none)
KEY_ANONYMIZED = "anonymized"
KEY_IMAGE_CATEGORIES = "image_categories"  # on_start: categories holding images (with image properties)


class Callback:
    """Base class of creation callbacks; every method does nothing by default."""

    def on_start(self, params: dict) -> None:
        """Called once before the first subject, with subject files, categories and ``<cat>_names``."""

    def on_subject(self, params: dict) -> None:
        """Called for each subject, in order, with its index, id, data and properties per category."""

    def on_end(self, params: dict) -> None:
        """Called once after the last subject."""


class ComposeCallback(Callback):
    """Call several callbacks in order.

    Parameters
    ----------
    callbacks : iterable of Callback
    """

    def __init__(self, callbacks: Iterable[Callback]) -> None:
        self.callbacks = list(callbacks)

    def on_start(self, params: dict) -> None:
        for callback in self.callbacks:
            callback.on_start(params)

    def on_subject(self, params: dict) -> None:
        for callback in self.callbacks:
            callback.on_subject(params)

    def on_end(self, params: dict) -> None:
        for callback in self.callbacks:
            callback.on_end(params)


class MonitoringCallback(Callback):
    """Print ``[i/n] subject`` for each subject (the traverser's progress bar usually replaces it)."""

    def on_start(self, params: dict) -> None:
        print("start dataset creation")

    def on_subject(self, params: dict) -> None:
        index = params[defs.KEY_SUBJECT_INDEX]
        print(f"[{index + 1}/{_n_subjects(params)}] {params[defs.KEY_SUBJECT]}")

    def on_end(self, params: dict) -> None:
        print("dataset creation finished")


def _is_image_category(params: dict, category: str) -> bool:
    return params.get(defs.KEY_PLACEHOLDER_PROPERTIES.format(category)) is not None


class WriteDataCallback(Callback):
    """Write each category's array to ``data/<category>/<k>``.

    Parameters
    ----------
    writer : Writer
    include_images : bool, default True
        If ``False`` (metadata-only datasets), image categories are not written; non-image
        categories (numbers, categories) still are.
    """

    def __init__(self, writer: Writer, *, include_images: bool = True) -> None:
        self.writer = writer
        self.include_images = include_images

    def on_subject(self, params: dict) -> None:
        key = defs.subject_key(params[defs.KEY_SUBJECT_INDEX], _n_subjects(params))
        for category in params[defs.KEY_CATEGORIES]:
            if not self.include_images and _is_image_category(params, category):
                continue
            self.writer.write(f"{defs.LOC_DATA_PLACEHOLDER.format(category)}/{key}", params[category])


def _n_subjects(params: dict) -> int:
    return params.get(KEY_N_SUBJECTS, len(params[defs.KEY_SUBJECT_FILES]))


class WriteEssentialCallback(Callback):
    """Write subject ids, the shape of each subject's arrays and the root attributes (format, provenance).

    Parameters
    ----------
    writer : Writer
    meta_only : bool, default False
        Recorded in the root attribute ``meta_only``.
    """

    def __init__(self, writer: Writer, *, meta_only: bool = False) -> None:
        self.writer = writer
        self.meta_only = meta_only
        self._ndim: dict[str, int] = {}

    def on_start(self, params: dict) -> None:
        n = _n_subjects(params)
        self._ndim = {}
        self.writer.write_attribute(defs.ATTR_FORMAT_VERSION, defs.FORMAT_VERSION)
        self.writer.write_attribute(defs.ATTR_PYMIA_VERSION, pymia.__version__)
        self.writer.write_attribute(defs.ATTR_CREATED, datetime.datetime.now(datetime.timezone.utc).isoformat())
        self.writer.write_attribute(defs.ATTR_TRANSFORM, params.get(KEY_TRANSFORM, ""))
        self.writer.write_attribute(defs.ATTR_META_ONLY, bool(self.meta_only))
        self.writer.write_attribute(defs.ATTR_ANONYMIZED, bool(params.get(KEY_ANONYMIZED, False)))
        self.writer.reserve(defs.LOC_SUBJECT, (n,), str)

    def on_subject(self, params: dict) -> None:
        index = params[defs.KEY_SUBJECT_INDEX]
        self.writer.fill(defs.LOC_SUBJECT, params[defs.KEY_SUBJECT], index)
        for category in params[defs.KEY_CATEGORIES]:
            shape = np.shape(params[category])
            location = defs.LOC_SHAPES_PLACEHOLDER.format(category)
            if category not in self._ndim:
                self._ndim[category] = len(shape)
                self.writer.reserve(location, (_n_subjects(params), len(shape)), np.int64)
            elif self._ndim[category] != len(shape):
                raise InvalidInputError(
                    f"subject '{params[defs.KEY_SUBJECT]}': category '{category}' has shape {shape} but earlier "
                    f"subjects have {self._ndim[category]} axes; all subjects need the same dimensionality"
                )
            self.writer.fill(location, np.asarray(shape, dtype=np.int64), index)


class WriteImageInformationCallback(Callback):
    """Write the geometry (size, origin, spacing, direction in ITK order) of each subject's images.

    Works for 2-D, 3-D and 4-D images (pymia 0.3.4: 3-D only).

    Parameters
    ----------
    writer : Writer
    category : str, default 'images'
        The category whose image properties are written.
    """

    def __init__(self, writer: Writer, category: str = defs.KEY_IMAGES) -> None:
        self.writer = writer
        self.category = category
        self._dim: int | None = None

    def on_start(self, params: dict) -> None:
        self._dim = None

    def on_subject(self, params: dict) -> None:
        props = params.get(defs.KEY_PLACEHOLDER_PROPERTIES.format(self.category))
        if props is None:
            if self.category in params[defs.KEY_CATEGORIES]:
                raise InvalidInputError(
                    f"category '{self.category}' of subject '{params[defs.KEY_SUBJECT]}' holds no images, so it "
                    "has no image information; give WriteImageInformationCallback an image category"
                )
            return
        n, index = _n_subjects(params), params[defs.KEY_SUBJECT_INDEX]
        if self._dim is None:
            self._dim = props.dimensions
            self.writer.reserve(defs.LOC_IMGPROP_SHAPE, (n, self._dim), np.int64)
            self.writer.reserve(defs.LOC_IMGPROP_ORIGIN, (n, self._dim), np.float64)
            self.writer.reserve(defs.LOC_IMGPROP_DIRECTION, (n, self._dim * self._dim), np.float64)
            self.writer.reserve(defs.LOC_IMGPROP_SPACING, (n, self._dim), np.float64)
        elif props.dimensions != self._dim:
            raise InvalidInputError(
                f"subject '{params[defs.KEY_SUBJECT]}' has {props.dimensions}-D images but earlier subjects have "
                f"{self._dim}-D images; a dataset holds images of one dimensionality"
            )
        self.writer.fill(defs.LOC_IMGPROP_SHAPE, np.asarray(props.size, dtype=np.int64), index)
        self.writer.fill(defs.LOC_IMGPROP_ORIGIN, np.asarray(props.origin), index)
        self.writer.fill(defs.LOC_IMGPROP_DIRECTION, np.asarray(props.direction), index)
        self.writer.fill(defs.LOC_IMGPROP_SPACING, np.asarray(props.spacing), index)


class WriteNamesCallback(Callback):
    """Write the entry (channel) names of each category to ``meta/names/<category>_names``."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer

    def on_start(self, params: dict) -> None:
        for category in params[defs.KEY_CATEGORIES]:
            names = params[defs.KEY_PLACEHOLDER_NAMES.format(category)]
            self.writer.write(defs.LOC_NAMES_PLACEHOLDER.format(category), strings(names), dtype=str)


class WriteFilesCallback(Callback):
    """Write the common root folder of all input files and each file's path relative to it.

    Nothing is written for anonymized datasets (no paths or file names are stored).
    """

    def __init__(self, writer: Writer) -> None:
        self.writer = writer

    def on_start(self, params: dict) -> None:
        if params.get(KEY_ANONYMIZED, False):
            return
        subject_files = params[defs.KEY_SUBJECT_FILES]
        categories = params[defs.KEY_CATEGORIES]
        # entries that are not files (objects of a custom loader) are stored as ''
        paths = {
            category: [[_absolute(file) for file in sf.categories[category].entries.values()] for sf in subject_files]
            for category in categories
        }
        every = [p for rows in paths.values() for row in rows for p in row if p]
        root = os.path.commonpath([os.path.dirname(p) for p in every]) if every else ""
        self.writer.write(defs.LOC_FILES_ROOT, root, dtype=str)
        for category, rows in paths.items():
            relative = [[pathlib.Path(os.path.relpath(p, root)).as_posix() if p else "" for p in row] for row in rows]
            self.writer.write(defs.LOC_FILES_PLACEHOLDER.format(category), strings_2d(relative), dtype=str)


def _absolute(file: object) -> str:
    path = as_path(file)
    return os.path.abspath(path) if path else ""


def strings_2d(rows: list[list[str]]) -> np.ndarray:
    """Return a list of rows of strings as a 2-D object array (n, entries)."""
    array = np.empty((len(rows), len(rows[0]) if rows else 0), dtype=object)
    for i, row in enumerate(rows):
        array[i, :] = row
    return array


class WriteHashesCallback(Callback):
    """Write SHA-256 hashes of each subject (``meta/hashes/subjects``) and raw file (``meta/hashes/<cat>_files``)."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer

    def on_subject(self, params: dict) -> None:
        hashes = params.get(KEY_HASHES)
        if not hashes or not params.get(KEY_SUBJECT_HASH):
            return  # hashing switched off
        n, index = _n_subjects(params), params[defs.KEY_SUBJECT_INDEX]
        if index == 0:
            self.writer.reserve(defs.LOC_HASHES_SUBJECT, (n,), str)
            for category in params[defs.KEY_CATEGORIES]:
                self.writer.reserve(defs.LOC_HASHES_FILES_PLACEHOLDER.format(category), (n, len(hashes[category])), str)
        self.writer.fill(defs.LOC_HASHES_SUBJECT, params[KEY_SUBJECT_HASH], index)
        for category in params[defs.KEY_CATEGORIES]:
            self.writer.fill(defs.LOC_HASHES_FILES_PLACEHOLDER.format(category), strings(hashes[category]), index)


def get_default_callbacks(writer: Writer, meta_only: bool = False, *, monitoring: bool = False) -> ComposeCallback:
    """Return the callbacks that write a complete pymia dataset.

    Parameters
    ----------
    writer : Writer
        The open writer.
    meta_only : bool, default False
        Write no voxel data of image categories, only metadata (names, shapes, geometry, file paths,
        hashes) and non-image values. (pymia 0.3.4 inverted this flag.)
    monitoring : bool, default False
        Add a :class:`MonitoringCallback` that prints each subject.

    Returns
    -------
    ComposeCallback
        Data, essential (ids, shapes, attributes), image information, names, files and hashes.
    """
    callbacks: list[Callback] = [MonitoringCallback()] if monitoring else []
    callbacks += [
        WriteDataCallback(writer, include_images=not meta_only),
        WriteEssentialCallback(writer, meta_only=meta_only),
        WriteImageInformationCallback(writer),
        WriteNamesCallback(writer),
        WriteFilesCallback(writer),
        WriteHashesCallback(writer),
    ]
    return ComposeCallback(callbacks)
