"""The real brain behind the example data: the MNI ICBM152 2009a template inside the nilearn wheel.

nilearn ships the T1-weighted template and the grey- and white-matter probability maps of the MNI
ICBM152 nonlinear symmetric 2009a atlas (1 mm, 197 × 233 × 189 voxels, skull-stripped). This module
finds them through ``importlib.util.find_spec`` without importing nilearn (which takes seconds) and
puts them on the grid of the requested resolution.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from pymia.errors import InvalidInputError, MissingDependencyError, MissingFileError

__all__ = ["MCGILL_COPYRIGHT", "TEMPLATE_FILE_NAMES", "TissueTemplate", "find_template_files", "load_template"]

MCGILL_COPYRIGHT = (
    "Copyright (C) 1993–2004 Louis Collins, McConnell Brain Imaging Centre, "
    "Montreal Neurological Institute, McGill University"
)
"""The notice that must accompany every copy of the template and of data derived from it."""

TEMPLATE_FILE_NAMES: dict[str, str] = {
    "t1": "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz",
    "gm": "mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz",
    "wm": "mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz",
}
"""File of each template volume in ``nilearn/datasets/data`` (uint8, 0–255)."""

MAXIMUM_RESOLUTION_MM = 10.0

_INSTALL_HINT = (
    "install the `examples` extra from the pymia checkout (pip install -e '.[examples]') "
    "or install nilearn alone (pip install nilearn)"
)


def find_template_files() -> dict[str, Path]:
    """Locate the template volumes inside the installed nilearn package, without importing it.

    Returns
    -------
    dict of str to pathlib.Path
        Paths of the ``"t1"``, ``"gm"`` and ``"wm"`` volumes.

    Raises
    ------
    MissingDependencyError
        nilearn is not installed.
    MissingFileError
        nilearn is installed but does not contain the template files.
    """
    spec = importlib.util.find_spec("nilearn")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            f"the example data is simulated from the MNI152 template shipped with nilearn, which is not installed; "
            f"{_INSTALL_HINT}"
        )
    data_folder = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"
    files = {key: data_folder / name for key, name in TEMPLATE_FILE_NAMES.items()}
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise MissingFileError(
            f"nilearn is installed but lacks the MNI152 template files {missing}; reinstall nilearn>=0.10 "
            f"({_INSTALL_HINT})"
        )
    return files


def nilearn_version() -> str:
    """Return the installed nilearn version from its metadata (without importing it), or ``"unknown"``."""
    try:
        return importlib.metadata.version("nilearn")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class TissueTemplate:
    """The template on the example-data grid.

    Attributes
    ----------
    t1 : numpy.ndarray
        T1-weighted intensities scaled to [0, 1], ``float32``, numpy order (z, y, x).
    gray_matter, white_matter : numpy.ndarray
        Tissue probabilities in [0, 1], ``float32``, same shape.
    reference : SimpleITK.Image
        A scalar image carrying the grid: size, origin, spacing (mm) and direction (LPS, as
        SimpleITK reads the RAS-oriented NIfTI files).
    """

    t1: np.ndarray
    gray_matter: np.ndarray
    white_matter: np.ndarray
    reference: sitk.Image

    @property
    def shape(self) -> tuple[int, ...]:
        """Array shape in numpy order (z, y, x)."""
        return self.t1.shape


def _to_grid(image: sitk.Image, resolution_mm: float) -> sitk.Image:
    factor = resolution_mm / image.GetSpacing()[0]
    if abs(factor - round(factor)) < 1e-9:
        # Averaging whole blocks is both the anti-aliasing filter and the resampling; it is exact
        # for integer factors and much faster than smoothing + interpolation.
        return sitk.BinShrink(image, [round(factor)] * image.GetDimension())
    # Gaussian pre-filter whose width matches the new voxel (FWHM ≈ new spacing), then linear resampling.
    sigma = np.sqrt(max(resolution_mm**2 - image.GetSpacing()[0] ** 2, 0.0) / (8 * np.log(2)))
    smoothed = sitk.SmoothingRecursiveGaussian(image, float(sigma))
    size = [int(np.floor(n * s / resolution_mm)) for n, s in zip(image.GetSize(), image.GetSpacing())]
    half_shift = np.asarray(image.GetDirection()).reshape(3, 3) @ np.full(
        3, (resolution_mm - image.GetSpacing()[0]) / 2
    )
    origin = tuple(float(o) for o in np.asarray(image.GetOrigin()) + half_shift)
    return sitk.Resample(
        smoothed, size, sitk.Transform(), sitk.sitkLinear, origin, (resolution_mm,) * 3, image.GetDirection(), 0.0
    )


def load_template(resolution_mm: float = 2.0) -> TissueTemplate:
    """Read the template volumes and put them on an isotropic grid of ``resolution_mm``.

    Parameters
    ----------
    resolution_mm : float, default 2.0
        Voxel size in mm, from 1 (the template's own resolution) to 10. Integer values average whole
        blocks of voxels (2 mm gives 94 × 116 × 98 voxels, z, y, x); other values smooth and
        resample linearly.

    Returns
    -------
    TissueTemplate
    """
    try:
        resolution_mm = float(resolution_mm)
    except (TypeError, ValueError):
        raise InvalidInputError(f"resolution {resolution_mm!r} is not a number of mm; use e.g. 2 or 1") from None
    if not resolution_mm >= 1.0:
        raise InvalidInputError(
            f"resolution {resolution_mm} mm is finer than the 1 mm template; use a value >= 1 (e.g. 2 or 1)"
        )
    if not resolution_mm <= MAXIMUM_RESOLUTION_MM:
        raise InvalidInputError(
            f"resolution {resolution_mm} mm is too coarse for a brain of about 140 mm; "
            f"use at most {MAXIMUM_RESOLUTION_MM:g} mm (e.g. 2 or 1)"
        )
    files = find_template_files()
    volumes = {}
    for key, path in files.items():
        image = _to_grid(sitk.ReadImage(str(path), sitk.sitkFloat32), resolution_mm)
        volumes[key] = image
    arrays = {key: np.clip(sitk.GetArrayFromImage(image) / np.float32(255), 0, 1) for key, image in volumes.items()}
    reference = sitk.Image(volumes["t1"].GetSize(), sitk.sitkUInt8)
    reference.CopyInformation(volumes["t1"])
    return TissueTemplate(
        t1=arrays["t1"].astype(np.float32),
        gray_matter=arrays["gm"].astype(np.float32),
        white_matter=arrays["wm"].astype(np.float32),
        reference=reference,
    )
