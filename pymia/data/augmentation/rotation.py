"""Random rotation by small angles (e.g. up to 16°) about the array centre, for 2-D and 3-D samples."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import pymia.data.definition as defs
from pymia.data.augmentation._spatial import centred_offset
from pymia.data.augmentation.randomtransform import SeedLike
from pymia.data.augmentation.resamplingtransform import ResamplingTransform
from pymia.errors import InvalidInputError

__all__ = ["RandomRotation"]


def rotation_matrix(angles_radians: Sequence[float]) -> np.ndarray:
    """Rotation matrix in index order (z, y, x) for rotations about the z, y and x axes, applied x first.

    Each elementary rotation turns a plane (a, b), a < b, by ``[[cos, -sin], [sin, cos]]``; resampled as
    in :class:`RandomRotation` it turns the content as ``scipy.ndimage.rotate(angle_degrees, axes=(a, b))``.

    Parameters
    ----------
    angles_radians : sequence of 3 float
        Angles about z (turns the (y, x) plane), about y (the (z, x) plane) and about x (the (z, y) plane).

    Returns
    -------
    numpy.ndarray
        Shape (3, 3), orthonormal with determinant 1.
    """
    about_z, about_y, about_x = angles_radians
    cz, sz = np.cos(about_z), np.sin(about_z)
    cy, sy = np.cos(about_y), np.sin(about_y)
    cx, sx = np.cos(about_x), np.sin(about_x)
    rotate_z = np.array([[1.0, 0.0, 0.0], [0.0, cz, -sz], [0.0, sz, cz]])
    rotate_y = np.array([[cy, 0.0, -sy], [0.0, 1.0, 0.0], [sy, 0.0, cy]])
    rotate_x = np.array([[cx, -sx, 0.0], [sx, cx, 0.0], [0.0, 0.0, 1.0]])
    return rotate_z @ rotate_y @ rotate_x


class RandomRotation(ResamplingTransform):
    """Rotate the sample about its centre by random angles, the same rotation for every entry.

    Each angle is drawn uniformly from [-max, +max] degrees. A 2-D sample (y, x, c) is rotated in its
    plane (the angle "about z"); a 3-D sample (z, y, x, c) about z, y and x, in that order of the
    maxima, composed into one rotation and resampled once. The output keeps the input shape; corners
    rotated in from outside are filled according to ``mode``.

    Angles are in voxel space: for anisotropic voxels a rotation that mixes axes of different spacing
    also shears in millimetres; rotate only in the isotropic plane then, e.g.
    ``max_degrees=(16, 0, 0)`` for axial in-plane rotation of (z, y, x) volumes with thick slices.

    Parameters
    ----------
    max_degrees : float or sequence of float, default 16
        The largest absolute angle in degrees, one for all axes or one per axis (z, y, x); 0 switches
        rotation about that axis off. For 2-D samples only the first (about z) is used.
    p : float, default 1.0
        Probability that the sample is rotated.
    entries : sequence of str, default ('images', 'labels')
        The sample keys to rotate; all must share their spatial shape.
    order, label_entries, mode, fill_value, seed, rng
        See :class:`~pymia.data.augmentation.ResamplingTransform` (images linear, labels nearest).

    Examples
    --------
    >>> import numpy as np
    >>> from pymia.data.augmentation import RandomRotation
    >>> sample = {'images': np.random.rand(32, 32, 1).astype(np.float32),
    ...           'labels': np.zeros((32, 32, 1), dtype=np.uint8)}
    >>> out = RandomRotation(16, seed=0)(sample)
    >>> out['images'].shape, out['labels'].dtype
    ((32, 32, 1), dtype('uint8'))
    """

    def __init__(
        self,
        max_degrees: float | Sequence[float] = 16.0,
        p: float = 1.0,
        entries: Sequence[str] = (defs.KEY_IMAGES, defs.KEY_LABELS),
        *,
        order: int = 1,
        label_entries: Sequence[str] = (defs.KEY_LABELS,),
        mode: str = "constant",
        fill_value: float = 0.0,
        seed: SeedLike = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__(
            p=p,
            entries=entries,
            order=order,
            label_entries=label_entries,
            mode=mode,
            fill_value=fill_value,
            seed=seed,
            rng=rng,
        )
        maxima = np.atleast_1d(np.asarray(max_degrees, dtype=np.float64))
        if maxima.ndim != 1 or maxima.size not in (1, 3) or not np.all(np.isfinite(maxima)) or np.any(maxima < 0):
            raise InvalidInputError(
                f"RandomRotation needs max_degrees as one non-negative number or three (about z, y, x), got "
                f"{max_degrees!r}"
            )
        self.max_degrees = float(maxima[0]) if maxima.size == 1 else tuple(float(m) for m in maxima)

    def draw_mapping(self, spatial_shape: tuple[int, ...]) -> dict:
        maxima = np.broadcast_to(np.radians(self.max_degrees), (3,))
        angles = self.rng.uniform(-maxima, maxima)  # always three draws: the stream does not depend on ndim
        if len(spatial_shape) == 2:
            matrix = rotation_matrix((angles[0], 0.0, 0.0))[1:, 1:]
        else:
            matrix = rotation_matrix(angles)
        # output index o comes from input position R^T (o - centre) + centre
        inverse = matrix.T
        return {"matrix": inverse, "offset": centred_offset(inverse, spatial_shape)}
