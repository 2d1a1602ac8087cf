"""Random smooth deformations that turn one template brain into many plausible subjects.

A deformation is a small random similarity transform (rotation, isotropic scaling, translation)
followed by a cubic B-spline transform with random control-point displacements, both SimpleITK
transforms. SimpleITK evaluates their displacement on a coarse grid (every few voxels); the field is
so smooth that trilinear up-sampling reproduces it closely, and warping with
``scipy.ndimage.map_coordinates`` is then several times faster than resampling through the
B-spline transform at every voxel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

__all__ = ["DeformationSettings", "random_displacement", "warp"]


@dataclass(frozen=True)
class DeformationSettings:
    """Parameters of a random deformation.

    Attributes
    ----------
    control_mesh : int
        B-spline mesh size per axis (the control grid has ``mesh + 3`` points per axis).
    bspline_std_mm : float
        Standard deviation of each control-point displacement in mm.
    rotation_std_degrees : float
        Standard deviation of each of the three rotation angles.
    scale : float
        Mean isotropic scaling (e.g. larger for larger heads).
    scale_std : float
        Standard deviation of the isotropic scaling.
    translation_std_mm : float
        Standard deviation of the translation along each axis.
    field_step : int
        The displacement is computed exactly every ``field_step`` voxels and interpolated between.
    """

    control_mesh: int = 4
    bspline_std_mm: float = 3.0
    rotation_std_degrees: float = 3.0
    scale: float = 1.0
    scale_std: float = 0.03
    translation_std_mm: float = 2.0
    field_step: int = 4


def _random_transform(reference: sitk.Image, rng: np.random.Generator, settings: DeformationSettings) -> sitk.Transform:
    dimension = reference.GetDimension()
    angles = np.radians(rng.normal(0.0, settings.rotation_std_degrees, size=3))
    scale = settings.scale * (1.0 + rng.normal(0.0, settings.scale_std))
    translation = rng.normal(0.0, settings.translation_std_mm, size=dimension)
    center = reference.TransformContinuousIndexToPhysicalPoint([(n - 1) / 2 for n in reference.GetSize()])
    if dimension == 3:
        rotation = sitk.Euler3DTransform(center, *(float(a) for a in angles))
        matrix = np.asarray(rotation.GetMatrix()).reshape(3, 3)
    else:
        cos, sin = math.cos(angles[0]), math.sin(angles[0])
        matrix = np.array([[cos, -sin], [sin, cos]])
    affine = sitk.AffineTransform(dimension)
    affine.SetCenter(center)
    affine.SetMatrix(tuple(float(v) for v in (scale * matrix).ravel()))
    affine.SetTranslation(tuple(float(t) for t in translation))

    bspline = sitk.BSplineTransformInitializer(reference, [settings.control_mesh] * dimension, 3)
    parameters = rng.normal(0.0, settings.bspline_std_mm, size=len(bspline.GetParameters()))
    bspline.SetParameters(tuple(float(p) for p in parameters))
    return sitk.CompositeTransform([affine, bspline])


def _interpolation_matrix(n_full: int, n_coarse: int, step: int) -> np.ndarray:
    """Linear interpolation weights from a grid sampled every ``step`` voxels to every voxel."""
    position = np.arange(n_full) / step
    lower = np.minimum(np.floor(position).astype(int), max(n_coarse - 2, 0))
    weight = position - lower
    matrix = np.zeros((n_full, n_coarse), dtype=np.float64)
    matrix[np.arange(n_full), lower] = 1.0 - weight
    if n_coarse > 1:
        matrix[np.arange(n_full), lower + 1] = weight
    return matrix


def random_displacement(
    reference: sitk.Image,
    rng: np.random.Generator,
    settings: DeformationSettings | None = None,
) -> np.ndarray:
    """Draw a random smooth deformation on the grid of ``reference``.

    Parameters
    ----------
    reference : SimpleITK.Image
        Defines the grid (2-D or 3-D; size, origin, spacing in mm, direction).
    rng : numpy.random.Generator
        Source of all random numbers; the same state gives the same field.
    settings : DeformationSettings, optional
        Strength of the deformation; defaults to :class:`DeformationSettings()`.

    Returns
    -------
    numpy.ndarray
        ``float32`` array of shape ``(ndim, *numpy_shape)``: for each output voxel, the offset in
        voxels (numpy axis order z, y, x) of the input position to sample, for :func:`warp`.
    """
    settings = settings or DeformationSettings()
    transform = _random_transform(reference, rng, settings)
    step = int(settings.field_step)
    size = reference.GetSize()
    coarse_size = [math.ceil((n - 1) / step) + 1 for n in size]
    coarse_spacing = [s * step for s in reference.GetSpacing()]
    field = sitk.TransformToDisplacementField(
        transform, sitk.sitkVectorFloat64, coarse_size, reference.GetOrigin(), coarse_spacing, reference.GetDirection()
    )
    physical = sitk.GetArrayFromImage(field)  # (*coarse numpy shape, ndim), vector components in ITK order
    direction = np.asarray(reference.GetDirection()).reshape(len(size), len(size))
    in_voxels = (physical @ np.linalg.inv(direction).T) / np.asarray(reference.GetSpacing())
    in_voxels = in_voxels[..., ::-1]  # components to numpy order
    matrices = [
        _interpolation_matrix(n, c, step) for n, c in zip(reversed(size), reversed(coarse_size))
    ]  # numpy axis order
    full = np.moveaxis(in_voxels, -1, 0)
    for axis, matrix in enumerate(matrices):
        full = np.moveaxis(np.tensordot(matrix, full, axes=([1], [axis + 1])), 0, axis + 1)
    return full.astype(np.float32)


def warp(arrays: Sequence[np.ndarray], displacement: np.ndarray, *, order: int = 1) -> list[np.ndarray]:
    """Warp each array with ``displacement`` (from :func:`random_displacement`).

    Parameters
    ----------
    arrays : sequence of numpy.ndarray
        Scalar volumes of shape ``displacement.shape[1:]``.
    displacement : numpy.ndarray
        ``(ndim, *shape)`` offsets in voxels, numpy axis order.
    order : int, default 1
        Interpolation order: 1 for intensities and probabilities (trilinear), 0 for labels.

    Returns
    -------
    list of numpy.ndarray
        Warped arrays with their input dtype. Samples outside the volume take the value of the
        nearest border voxel (the brain stem leaves the template's field of view at the bottom, so
        it continues instead of being cut).
    """
    coordinates = np.indices(displacement.shape[1:], dtype=np.float32)
    coordinates += displacement
    return [
        ndimage.map_coordinates(array, coordinates, order=order, mode="nearest", prefilter=False).astype(
            array.dtype, copy=False
        )
        for array in arrays
    ]
