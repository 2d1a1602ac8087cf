"""Loaders turn one entry of a subject (an image file, a DICOM folder, a table cell) into an array.

:class:`Load` is the interface the :class:`~pymia.data.creation.traverser.Traverser` calls;
:class:`LoadDefault` reads every format SimpleITK reads (NIfTI, MetaImage, NRRD, ...), DICOM series
given as a folder, and :class:`~pymia.data.creation.tabular.CsvValue` cells.
"""

from __future__ import annotations

import abc
import os
import pathlib
from typing import Any

import numpy as np
import SimpleITK as sitk

from pymia.data.conversion import ImageProperties
from pymia.data.creation.tabular import CsvValue
from pymia.errors import InvalidInputError, MissingFileError

__all__ = ["Load", "LoadDefault", "read_dicom_series", "read_image"]


class Load(abc.ABC):
    """Interface of loaders: ``array, properties = load(file_name, id_, category, subject_id)``.

    ``properties`` is an :class:`~pymia.data.conversion.ImageProperties` for images and ``None`` for
    non-image values. Loaders are called in worker processes when the traverser gets an executor, so
    they must be picklable.
    """

    @abc.abstractmethod
    def __call__(
        self, file_name: Any, id_: str, category: str, subject_id: str
    ) -> tuple[np.ndarray, ImageProperties | None]:
        """Load entry ``id_`` of ``category`` of subject ``subject_id`` from ``file_name``."""


class LoadDefault(Load):
    """Load images with SimpleITK (files or DICOM-series folders) and values from table cells.

    Images are returned as numpy arrays in (z, y, x) order ((z, y, x, components) for vector images)
    with their :class:`~pymia.data.conversion.ImageProperties`; a numerical value as a float64 array
    of shape (1,), a categorical value as an object array of one ``str``.
    """

    def __call__(
        self, file_name: Any, id_: str, category: str, subject_id: str
    ) -> tuple[np.ndarray, ImageProperties | None]:
        if isinstance(file_name, CsvValue):
            if isinstance(file_name.value, str):
                return np.array([file_name.value], dtype=object), None
            return np.array([file_name.value], dtype=np.float64), None
        image = read_image(file_name, subject=subject_id, entry=id_)
        return sitk.GetArrayFromImage(image), ImageProperties(image)

    def __repr__(self) -> str:
        return "LoadDefault()"


def read_image(path: str | os.PathLike, *, subject: str = "?", entry: str = "?") -> sitk.Image:
    """Read an image file, or a DICOM series from a folder, with SimpleITK.

    Raises
    ------
    MissingFileError
        The path does not exist, the folder holds no DICOM series, or SimpleITK cannot read the file.
    """
    path = pathlib.Path(path)
    if not path.exists():
        raise MissingFileError(f"subject '{subject}', entry '{entry}': file '{path}' does not exist; check the path")
    if path.is_dir():
        return read_dicom_series(path, subject=subject, entry=entry)
    try:
        return sitk.ReadImage(str(path))
    except RuntimeError as error:
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else "unknown reason"
        raise MissingFileError(
            f"subject '{subject}', entry '{entry}': cannot read image '{path}' ({reason}); "
            "use NIfTI, MetaImage, NRRD or a DICOM series folder"
        ) from None


def read_dicom_series(folder: str | os.PathLike, *, subject: str = "?", entry: str = "?") -> sitk.Image:
    """Read the one DICOM series in ``folder`` into a 3-D image (slices sorted by position).

    Only voxels and geometry are kept; no DICOM header field (patient name, id, dates) is returned.

    Raises
    ------
    MissingFileError
        The folder has no DICOM series.
    InvalidInputError
        The folder has more than one series (the message lists their ids).
    """
    folder = str(folder)
    series = sitk.ImageSeriesReader.GetGDCMSeriesIDs(folder)
    if not series:
        raise MissingFileError(
            f"subject '{subject}', entry '{entry}': folder '{folder}' holds no DICOM series; "
            "give an image file or a folder of DICOM slices"
        )
    if len(series) > 1:
        raise InvalidInputError(
            f"subject '{subject}', entry '{entry}': folder '{folder}' holds {len(series)} DICOM series "
            f"{list(series)}; put each series in its own folder"
        )
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(folder, series[0]))
    try:
        return reader.Execute()
    except RuntimeError as error:
        raise MissingFileError(
            f"subject '{subject}', entry '{entry}': cannot read the DICOM series in '{folder}' ({error})"
        ) from None
