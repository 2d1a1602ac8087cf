"""Deterministic numpy phantoms with analytically known volumes, for tests and examples.

A phantom is a label map of nested ellipsoids (ellipses in 2-D) on a voxel grid with a given
spacing in mm. Because the shapes are analytic, tests can compare measured volumes, Dice values or
distances against exact numbers. :func:`write_phantom_subjects` writes phantom subjects to disk in
the same folder layout as the realistic example data (:mod:`pymia.datasets`).

All arrays are in numpy axis order: (z, y, x) for 3-D and (y, x) for 2-D; ``spacing`` and
``center_mm`` follow that order. Origins and direction matrices describe physical space and are in
ITK order (x, y, z), as SimpleITK and :class:`pymia.data.conversion.ImageProperties` use them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from pymia.datasets.demographics import sample_demographics
from pymia.datasets.layout import (
    IMAGE_KEYS,
    SubjectRecord,
    resolve_file_suffixes,
    subject_file,
    subject_name,
    write_image,
    write_tables,
)
from pymia.errors import InvalidInputError

__all__ = [
    "NestedEllipsoids",
    "ellipsoid_mask",
    "ellipsoid_volume",
    "intensity_image",
    "make_image",
    "nested_ellipsoids",
    "oblique_direction",
    "sphere_mask",
    "write_phantom_subjects",
]


def _check_spacing(shape: Sequence[int], spacing: Sequence[float] | None) -> tuple[float, ...]:
    if len(shape) < 1 or any(int(s) < 1 for s in shape):
        raise InvalidInputError(f"shape {tuple(shape)} must have at least one axis and sizes >= 1")
    if spacing is None:
        return (1.0,) * len(shape)
    spacing = tuple(float(s) for s in spacing)
    if len(spacing) != len(shape):
        raise InvalidInputError(
            f"spacing {spacing} has {len(spacing)} values but shape {tuple(shape)} has {len(shape)} axes; "
            "give one spacing per axis in numpy order"
        )
    if any(not s > 0 for s in spacing):
        raise InvalidInputError(f"spacing {spacing} must be positive in every axis (mm)")
    return spacing


def _default_center(shape: Sequence[int], spacing: Sequence[float]) -> tuple[float, ...]:
    # The middle of the grid: halfway between the first and the last voxel centre.
    return tuple((int(n) - 1) / 2 * s for n, s in zip(shape, spacing))


def ellipsoid_volume(radii_mm: Sequence[float]) -> float:
    """Return the exact volume of an axis-aligned ellipsoid in any dimension.

    Parameters
    ----------
    radii_mm : sequence of float
        Semi-axes in mm, one per axis (2 values: an ellipse, 3 values: an ellipsoid).

    Returns
    -------
    float
        ``π^(n/2) / Γ(n/2 + 1) · Π radii``: mm² for an ellipse, mm³ for an ellipsoid.

    Examples
    --------
    >>> round(ellipsoid_volume((1.0, 1.0, 1.0)), 6)  # unit ball: 4/3 π
    4.18879
    """
    radii = tuple(float(r) for r in radii_mm)
    if any(r < 0 for r in radii):
        raise InvalidInputError(f"radii {radii} must not be negative")
    n = len(radii)
    return math.pi ** (n / 2) / math.gamma(n / 2 + 1) * math.prod(radii)


def ellipsoid_mask(
    shape: Sequence[int],
    radii_mm: Sequence[float],
    *,
    spacing: Sequence[float] | None = None,
    center_mm: Sequence[float] | None = None,
) -> np.ndarray:
    """Return a boolean mask of the voxels whose centres lie inside an axis-aligned ellipsoid.

    Parameters
    ----------
    shape : sequence of int
        Array shape in numpy order, (z, y, x) or (y, x).
    radii_mm : sequence of float
        Semi-axes in mm, numpy order.
    spacing : sequence of float, optional
        Voxel spacing in mm, numpy order. Default: 1 mm in every axis.
    center_mm : sequence of float, optional
        Centre in mm, measured from the centre of voxel 0 along each array axis. Default: the
        middle of the grid.

    Returns
    -------
    numpy.ndarray
        Boolean array of ``shape``. ``mask.sum() * prod(spacing)`` approaches
        :func:`ellipsoid_volume` as the spacing shrinks.
    """
    spacing = _check_spacing(shape, spacing)
    radii = tuple(float(r) for r in radii_mm)
    if len(radii) != len(shape) or any(not r > 0 for r in radii):
        raise InvalidInputError(f"radii {radii} must be {len(shape)} positive values (mm) for shape {tuple(shape)}")
    center = _default_center(shape, spacing) if center_mm is None else tuple(float(c) for c in center_mm)
    if len(center) != len(shape):
        raise InvalidInputError(f"center_mm {center} must have {len(shape)} values for shape {tuple(shape)}")
    grids = np.ogrid[tuple(slice(0, int(n)) for n in shape)]
    distance = np.zeros(tuple(int(n) for n in shape), dtype=np.float64)
    for axis, grid in enumerate(grids):
        distance = distance + ((grid * spacing[axis] - center[axis]) / radii[axis]) ** 2
    return distance <= 1.0


def sphere_mask(
    shape: Sequence[int],
    radius_mm: float,
    *,
    spacing: Sequence[float] | None = None,
    center_mm: Sequence[float] | None = None,
) -> np.ndarray:
    """Return a boolean mask of a sphere (a disk in 2-D); see :func:`ellipsoid_mask`."""
    return ellipsoid_mask(shape, (float(radius_mm),) * len(shape), spacing=spacing, center_mm=center_mm)


@dataclass(frozen=True)
class NestedEllipsoids:
    """A label map of concentric, nested ellipsoids, with their exact volumes.

    Attributes
    ----------
    labels : numpy.ndarray
        ``uint8`` label map in numpy order; 0 is background.
    label_values : tuple of int
        Label of each shell, outermost first.
    radii_mm : tuple of tuple of float
        Semi-axes of each ellipsoid in mm (numpy order), outermost first.
    spacing : tuple of float
        Voxel spacing in mm, numpy order.
    center_mm : tuple of float
        Common centre in mm from the centre of voxel 0, numpy order.
    """

    labels: np.ndarray
    label_values: tuple[int, ...]
    radii_mm: tuple[tuple[float, ...], ...]
    spacing: tuple[float, ...]
    center_mm: tuple[float, ...]

    @property
    def analytic_volumes(self) -> dict[int, float]:
        """Exact volume (mm³, or mm² in 2-D) of each label's shell: outer minus next inner ellipsoid."""
        volumes = [ellipsoid_volume(r) for r in self.radii_mm] + [0.0]
        return {label: volumes[i] - volumes[i + 1] for i, label in enumerate(self.label_values)}

    @property
    def measured_volumes(self) -> dict[int, float]:
        """Voxel count of each label times the voxel volume (mm³, or mm² in 2-D)."""
        voxel_volume = math.prod(self.spacing)
        return {label: float(np.count_nonzero(self.labels == label)) * voxel_volume for label in self.label_values}

    def mask(self) -> np.ndarray:
        """Boolean mask of the outermost ellipsoid (all non-background labels)."""
        return self.labels > 0


def nested_ellipsoids(
    shape: Sequence[int],
    radii_mm: Sequence[Sequence[float]],
    *,
    spacing: Sequence[float] | None = None,
    center_mm: Sequence[float] | None = None,
    label_values: Sequence[int] | None = None,
) -> NestedEllipsoids:
    """Build a label map of concentric ellipsoids, each inside the previous one.

    Parameters
    ----------
    shape : sequence of int
        Array shape in numpy order, (z, y, x) or (y, x).
    radii_mm : sequence of sequence of float
        Semi-axes (mm, numpy order) of each ellipsoid, outermost first. Every radius must be at
        most the radius of the previous ellipsoid on the same axis.
    spacing : sequence of float, optional
        Voxel spacing in mm, numpy order. Default: 1 mm.
    center_mm : sequence of float, optional
        Common centre; default the middle of the grid (see :func:`ellipsoid_mask`).
    label_values : sequence of int, optional
        Label of each shell, outermost first, in 1..255. Default ``1, 2, ...``.

    Returns
    -------
    NestedEllipsoids
        Label map plus the parameters and exact shell volumes.

    Examples
    --------
    >>> phantom = nested_ellipsoids((32, 32, 32), [(12, 12, 12), (6, 6, 6)], spacing=(1.0, 1.0, 1.0))
    >>> sorted(phantom.analytic_volumes)
    [1, 2]
    """
    spacing = _check_spacing(shape, spacing)
    radii = tuple(tuple(float(r) for r in radius) for radius in radii_mm)
    if not radii:
        raise InvalidInputError("radii_mm is empty; give at least one ellipsoid")
    for outer, inner in itertools.pairwise(radii):
        if len(inner) == len(outer) and any(i > o for i, o in zip(inner, outer)):
            raise InvalidInputError(f"ellipsoid radii {inner} are not inside the enclosing ellipsoid {outer}")
    values = tuple(range(1, len(radii) + 1)) if label_values is None else tuple(int(v) for v in label_values)
    if len(values) != len(radii) or any(not 0 < v < 256 for v in values) or len(set(values)) != len(values):
        raise InvalidInputError(f"label_values {values} must be {len(radii)} distinct integers in 1..255")
    center = _default_center(shape, spacing) if center_mm is None else tuple(float(c) for c in center_mm)
    labels = np.zeros(tuple(int(n) for n in shape), dtype=np.uint8)
    for radius, value in zip(radii, values):  # outermost first, inner shells overwrite
        labels[ellipsoid_mask(shape, radius, spacing=spacing, center_mm=center)] = value
    return NestedEllipsoids(labels=labels, label_values=values, radii_mm=radii, spacing=spacing, center_mm=center)


def intensity_image(
    labels: np.ndarray,
    intensities: Mapping[int, float],
    *,
    background: float = 0.0,
    noise_std: float = 0.0,
    seed: int | None = 0,
) -> np.ndarray:
    """Return an intensity image with one constant value per label, plus optional Gaussian noise.

    Parameters
    ----------
    labels : numpy.ndarray
        Integer label map, any shape.
    intensities : mapping of int to float
        Intensity of each label; labels not listed get ``background``.
    background : float, default 0
        Intensity of label 0 and of unlisted labels.
    noise_std : float, default 0
        Standard deviation of additive Gaussian noise, added to every voxel.
    seed : int or None, default 0
        Seed of the noise; the same seed gives the same image.

    Returns
    -------
    numpy.ndarray
        ``float32`` array of the shape of ``labels``.
    """
    if noise_std < 0:
        raise InvalidInputError(f"noise_std {noise_std} must not be negative")
    image = np.full(labels.shape, background, dtype=np.float32)
    for label, value in intensities.items():
        image[labels == label] = value
    if noise_std > 0:
        image += np.random.default_rng(seed).normal(0.0, noise_std, size=labels.shape).astype(np.float32)
    return image


def oblique_direction(dimensions: int, angle_degrees: float = 30.0) -> tuple[float, ...]:
    """Return a rotated (non-identity) direction matrix, row-major in ITK order.

    In 2-D it rotates by ``angle_degrees``; in 3-D by ``angle_degrees`` about z, then by half of it
    about x, so that no axis stays aligned. Useful to test that geometry survives a round trip.

    Returns
    -------
    tuple of float
        ``dimensions * dimensions`` values of a proper rotation (determinant +1).
    """
    angle = math.radians(angle_degrees)
    cos, sin = math.cos(angle), math.sin(angle)
    if dimensions == 2:
        matrix = np.array([[cos, -sin], [sin, cos]])
    elif dimensions == 3:
        about_z = np.array([[cos, -sin, 0.0], [sin, cos, 0.0], [0.0, 0.0, 1.0]])
        half = angle / 2
        about_x = np.array(
            [[1.0, 0.0, 0.0], [0.0, math.cos(half), -math.sin(half)], [0.0, math.sin(half), math.cos(half)]]
        )
        matrix = about_x @ about_z
    else:
        raise InvalidInputError(f"dimensions {dimensions} not supported; use 2 or 3")
    return tuple(float(v) for v in matrix.ravel())


def make_image(
    array: np.ndarray,
    *,
    spacing: Sequence[float] | None = None,
    origin: Sequence[float] | None = None,
    direction: Sequence[float] | None = None,
) -> sitk.Image:
    """Wrap a numpy array into a SimpleITK image with the given geometry.

    Parameters
    ----------
    array : numpy.ndarray
        Scalar image in numpy order, (z, y, x) or (y, x).
    spacing : sequence of float, optional
        Spacing in mm in **numpy order** (like ``array.shape``). Default: 1 mm.
    origin : sequence of float, optional
        Physical position of voxel 0 in mm, **ITK order** (x, y, z). Default: zeros.
    direction : sequence of float, optional
        Row-major direction matrix in ITK order. Default: identity.

    Returns
    -------
    SimpleITK.Image
        An image of size ``array.shape[::-1]`` (ITK order) with that geometry.
    """
    spacing = _check_spacing(array.shape, spacing)
    image = sitk.GetImageFromArray(np.ascontiguousarray(array), isVector=False)
    dim = array.ndim
    image.SetSpacing(tuple(reversed(spacing)))
    if origin is not None:
        if len(origin) != dim:
            raise InvalidInputError(f"origin {tuple(origin)} must have {dim} values (mm, ITK order x, y, z)")
        image.SetOrigin(tuple(float(o) for o in origin))
    if direction is not None:
        if len(direction) != dim * dim:
            raise InvalidInputError(f"direction {tuple(direction)} must have {dim * dim} values (row-major)")
        matrix = np.asarray(direction, dtype=np.float64).reshape(dim, dim)
        if not np.allclose(matrix @ matrix.T, np.eye(dim), atol=1e-6):
            raise InvalidInputError(f"direction {tuple(direction)} is not orthonormal; give a rotation matrix")
        image.SetDirection(tuple(float(d) for d in matrix.ravel()))
    return image


# Tissue-like labels shared with the brain example data: 1 WM (innermost), 2 GM, 3 CSF (outer shell).
_PHANTOM_LABELS = (3, 2, 1)
_RADIUS_FRACTIONS = (0.45, 0.33, 0.2)  # of the field of view per axis, outermost first
_T1_INTENSITIES = {1: 0.85, 2: 0.65, 3: 0.35}
_T2_INTENSITIES = {1: 0.35, 2: 0.55, 3: 0.95}


def write_phantom_subjects(
    folder: str | Path,
    n_subjects: int = 3,
    shape: Sequence[int] = (20, 24, 28),
    spacing: Sequence[float] = (2.0, 1.5, 1.0),
    *,
    origin: Sequence[float] | None = None,
    direction: Sequence[float] | None = None,
    formats: str | Mapping[str, str] | None = None,
    noise_std: float = 0.02,
    seed: int = 0,
) -> list[Path]:
    """Write phantom subjects in the layout of the example data and return their folders.

    Each subject is a set of nested ellipsoids (labels 1 = inner "white matter", 2 = "grey
    matter", 3 = outer "CSF" shell) whose size and centre vary slightly per subject, with a
    T1-like and a T2-like intensity image, the label map ``GT`` and a binary ``MASK``::

        folder/Subject_1/Subject_1_T1.mha, _T2.mha, _GT.nii.gz, _MASK.nii.gz
        folder/demographics.csv (subject,age,sex,score)
        folder/manifest.csv (subject,T1,T2,GT,MASK,age,sex,score; paths relative to folder)

    Parameters
    ----------
    folder : str or pathlib.Path
        Output folder; created if missing. Existing files of the same names are overwritten.
    n_subjects : int, default 3
        Number of subjects, named ``Subject_1`` ... ``Subject_<n>``.
    shape : sequence of int, default (20, 24, 28)
        Image shape in numpy order; 2 values for 2-D images, 3 for 3-D.
    spacing : sequence of float, default (2.0, 1.5, 1.0)
        Voxel spacing in mm, numpy order (anisotropic by default on purpose).
    origin : sequence of float, optional
        Origin in mm, ITK order (x, y, z). Default zeros.
    direction : sequence of float, optional
        Row-major direction matrix, ITK order; e.g. :func:`oblique_direction`. Default identity.
    formats : str or mapping, optional
        File suffix for all entries (e.g. ``".nii.gz"``) or per entry (``{"T1": ".nrrd"}``).
        Default: ``.mha`` for T1 and T2, ``.nii.gz`` for GT and MASK.
    noise_std : float, default 0.02
        Gaussian noise on the intensity images (tissue intensities are between 0.35 and 0.95).
    seed : int, default 0
        The same seed (and arguments) gives byte-identical files.

    Returns
    -------
    list of pathlib.Path
        The subject folders, in subject order. T1/T2 are ``float32``; GT and MASK ``uint8``.
    """
    if int(n_subjects) < 1:
        raise InvalidInputError(f"n_subjects {n_subjects} must be at least 1")
    if len(shape) not in (2, 3):
        raise InvalidInputError(f"shape {tuple(shape)} must have 2 or 3 axes (numpy order)")
    spacing = _check_spacing(shape, spacing)
    suffixes = resolve_file_suffixes(formats)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    field_of_view = np.asarray(shape, dtype=np.float64) * np.asarray(spacing)
    grid_center = np.asarray(_default_center(shape, spacing))

    records = []
    for number in range(1, int(n_subjects) + 1):
        rng = np.random.default_rng([seed, number])
        scale = rng.uniform(0.85, 1.0)
        center = grid_center + rng.uniform(-1.0, 1.0, size=len(shape)) * np.asarray(spacing)
        radii = [tuple(fraction * scale * field_of_view) for fraction in _RADIUS_FRACTIONS]
        phantom = nested_ellipsoids(
            shape, radii, spacing=spacing, center_mm=tuple(center), label_values=_PHANTOM_LABELS
        )
        noise_seeds = rng.integers(0, 2**31, size=2)
        arrays = {
            "T1": intensity_image(phantom.labels, _T1_INTENSITIES, noise_std=noise_std, seed=int(noise_seeds[0])),
            "T2": intensity_image(phantom.labels, _T2_INTENSITIES, noise_std=noise_std, seed=int(noise_seeds[1])),
            "GT": phantom.labels,
            "MASK": phantom.mask().astype(np.uint8),
        }
        demographics = sample_demographics(rng)
        subject = subject_name(number)
        record = SubjectRecord(subject, age=demographics.age, sex=demographics.sex, score=demographics.score)
        for key in IMAGE_KEYS:
            image = make_image(arrays[key], spacing=spacing, origin=origin, direction=direction)
            record.files[key] = write_image(image, subject_file(folder, subject, key, suffixes[key]))
        records.append(record)
    write_tables(folder, records)
    return [folder / record.subject for record in records]
