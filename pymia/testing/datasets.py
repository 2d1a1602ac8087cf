"""Small pymia HDF5 datasets of phantom subjects, written through the real creation API, for tests.

:func:`create_test_dataset` writes phantom subject files (:func:`pymia.testing.phantoms.write_phantom_subjects`)
next to the dataset and runs :func:`pymia.data.creation.pipeline.create_dataset` on them, so tests of
extraction, assembly and the framework adapters read files exactly as users create them.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable, Sequence

from pymia.data.creation.discovery import subjects_from_manifest
from pymia.data.creation.pipeline import create_dataset
from pymia.data.storage.hdf5_writer import Hdf5Layout
from pymia.errors import InvalidInputError
from pymia.testing.phantoms import write_phantom_subjects

__all__ = ["TEST_DATASET_CATEGORIES", "create_test_dataset"]

#: Categories and entry names of a test dataset: images T1, T2 (float32); labels GT (uint8: 0
#: background, 1 inner, 2 middle, 3 outer ellipsoid shell); mask MASK (uint8 0/1); numerical age,
#: score (float64); sex ('F'/'M').
TEST_DATASET_CATEGORIES = {
    "images": ("T1", "T2"),
    "labels": ("GT",),
    "mask": ("MASK",),
    "numerical": ("age", "score"),
    "sex": ("sex",),
}


def create_test_dataset(
    path: str | pathlib.Path,
    *,
    n_subjects: int = 3,
    shape: Sequence[int] = (12, 14, 16),
    spacing: Sequence[float] | None = None,
    two_d: bool = False,
    origin: Sequence[float] | None = None,
    direction: Sequence[float] | None = None,
    meta_only: bool = False,
    layout: Hdf5Layout | None = None,
    transform: Callable[[dict], dict] | None = None,
    seed: int = 0,
    overwrite: bool = False,
) -> pathlib.Path:
    """Write a small phantom dataset and return the path of the ``.h5`` file.

    Parameters
    ----------
    path : str or pathlib.Path
        The dataset file (``.h5``). The raw phantom files go to the folder ``<stem>_raw`` beside it
        (kept: metadata-only datasets and file-system extractors read them).
    n_subjects : int, default 3
        Number of subjects (``Subject_1`` ...).
    shape : sequence of int, default (12, 14, 16)
        Image shape in numpy order (z, y, x), or (y, x). With ``two_d=True`` a 3-D shape is cut to
        its last two values.
    spacing : sequence of float, optional
        Voxel spacing in mm, numpy order; default (2.0, 1.5, 1.0) in 3-D and (1.5, 1.0) in 2-D.
    two_d : bool, default False
        Write 2-D images: arrays are (y, x, c) in the dataset.
    origin, direction : sequence of float, optional
        Geometry in ITK order (e.g. :func:`pymia.testing.phantoms.oblique_direction`).
    meta_only : bool, default False
        Write a metadata-only dataset (no image voxels).
    layout : Hdf5Layout, optional
        Chunking and compression of the voxel datasets.
    transform : callable, optional
        Creation-time transform (e.g. ``IntensityNormalization(loop_axis=-1)``).
    seed : int, default 0
        Same seed, same data.
    overwrite : bool, default False
        Replace an existing dataset (the raw files are always rewritten).

    Returns
    -------
    pathlib.Path
        The dataset file. Its categories are :data:`TEST_DATASET_CATEGORIES`; image arrays are
        (z, y, x, c) in 3-D and (y, x, c) in 2-D.

    Examples
    --------
    >>> import tempfile, h5py
    >>> file = create_test_dataset(tempfile.mkdtemp() + "/test.h5", n_subjects=2)
    >>> h5py.File(file)["data/images/0"].shape
    (12, 14, 16, 2)
    """
    path = pathlib.Path(path)
    shape = tuple(int(s) for s in shape)
    if two_d and len(shape) == 3:
        shape = shape[1:]
    if len(shape) not in (2, 3):
        raise InvalidInputError(f"shape {shape} must have 2 or 3 values (numpy order)")
    if two_d and len(shape) != 2:
        raise InvalidInputError(f"two_d=True needs a 2-D or 3-D shape, got {shape}")
    if spacing is None:
        spacing = (2.0, 1.5, 1.0)[-len(shape) :]
    spacing = tuple(float(s) for s in spacing)
    if len(spacing) == 3 and len(shape) == 2:
        spacing = spacing[1:]
    raw = path.with_name(f"{path.stem}_raw")
    write_phantom_subjects(raw, n_subjects, shape, spacing, origin=origin, direction=direction, seed=seed)
    subjects = subjects_from_manifest(
        raw / "manifest.csv",
        images=TEST_DATASET_CATEGORIES["images"],
        labels=TEST_DATASET_CATEGORIES["labels"],
        mask=TEST_DATASET_CATEGORIES["mask"],
        numerical=TEST_DATASET_CATEGORIES["numerical"],
        categorical=("sex",),
    )
    return create_dataset(
        subjects, path, transform=transform, meta_only=meta_only, layout=layout, progress=False, overwrite=overwrite
    )
