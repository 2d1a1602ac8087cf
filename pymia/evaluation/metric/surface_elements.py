"""Area (3-D) or length (2-D) of the surface piece inside each 2×2(×2) voxel neighbourhood.

The surfel method of :mod:`pymia.evaluation.metric.surface` weights every surface point (a voxel
corner whose neighbourhood is partly inside the mask) by the size of the surface that crosses its
neighbourhood. The surface is the iso-surface at 0.5 of the mask with vertices at edge midpoints:
marching squares in 2-D, classic (Lorensen) marching cubes in 3-D. Triangulating the side with at
most four inside corners makes a configuration and its complement get the same area; these are the
conventions of DeepMind's surface-distance, so the tables agree with its lookup tables.

A neighbourhood code has bit ``b`` set when the voxel at offset ``numpy.unravel_index(b, (2,) * ndim)``
of the neighbourhood is inside the mask.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

__all__ = ["neighbourhood_sizes"]


@functools.cache
def _unit_triangle_vectors() -> np.ndarray:
    """Area vectors of the marching-cubes triangles of each 3-D code at 1 mm spacing, shape (256, T, 3).

    Each vector is half the cross product of two triangle edges (its length is the triangle area);
    codes with fewer triangles than ``T`` are padded with zero vectors.
    """
    from skimage.measure import marching_cubes  # imported here: only the 3-D surfel method needs it

    per_code: list[np.ndarray] = []
    for code in range(256):
        corners = np.array([(code >> bit) & 1 for bit in range(8)], dtype=bool).reshape(2, 2, 2)
        inside = int(corners.sum())
        if inside in (0, 8):
            per_code.append(np.zeros((0, 3)))
            continue
        if inside > 4:
            corners = ~corners
        vertices, faces, _, _ = marching_cubes(
            corners.astype(np.float32), level=0.5, method="lorensen", allow_degenerate=True
        )
        triangles = vertices[faces].astype(np.float64)
        per_code.append(0.5 * np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0]))
    most = max(len(vectors) for vectors in per_code)
    table = np.zeros((256, most, 3))
    for code, vectors in enumerate(per_code):
        table[code, : len(vectors)] = vectors
    table.setflags(write=False)
    return table


def _surface_areas(spacing: Sequence[float]) -> np.ndarray:
    """Surface area in mm² of each 3-D neighbourhood code, shape (256,)."""
    s0, s1, s2 = (float(s) for s in spacing)
    # An area vector scales with the cofactors of the diagonal scaling: (s1·s2, s0·s2, s0·s1).
    cofactors = np.array([s1 * s2, s0 * s2, s0 * s1])
    return np.linalg.norm(_unit_triangle_vectors() * cofactors, axis=-1).sum(axis=-1)


def _contour_lengths(spacing: Sequence[float]) -> np.ndarray:
    """Contour length in mm of each 2-D neighbourhood code (marching squares at edge midpoints), shape (16,)."""
    s0, s1 = (float(s) for s in spacing)
    corner_cut = 0.5 * np.hypot(s0, s1)  # segment between the midpoints of the two edges at one corner
    lengths = np.zeros(16)
    for code in range(16):
        corners = np.array([(code >> bit) & 1 for bit in range(4)], dtype=bool).reshape(2, 2)
        inside = int(corners.sum())
        if inside in (1, 3):
            lengths[code] = corner_cut
        elif inside == 2:
            if corners[0, 0] == corners[1, 1]:  # diagonal pair: two separate corner cuts
                lengths[code] = 2.0 * corner_cut
            elif corners[0, 0] == corners[0, 1]:  # the inside corners share a row: the cut runs along axis 1
                lengths[code] = s1
            else:  # the inside corners share a column: the cut runs along axis 0
                lengths[code] = s0
    return lengths


def neighbourhood_sizes(spacing: Sequence[float]) -> np.ndarray:
    """Size of the surface in each neighbourhood code: area in mm² (3-D) or length in mm (2-D).

    Parameters
    ----------
    spacing : sequence of float
        Voxel spacing in mm in numpy order, 2 or 3 values.

    Returns
    -------
    numpy.ndarray of float64
        Shape (16,) in 2-D, (256,) in 3-D, indexed by neighbourhood code (see the module docstring).
    """
    if len(spacing) == 2:
        return _contour_lengths(spacing)
    if len(spacing) == 3:
        return _surface_areas(spacing)
    raise ValueError(f"surface elements exist for 2-D and 3-D only, got {len(spacing)} spacing values")
