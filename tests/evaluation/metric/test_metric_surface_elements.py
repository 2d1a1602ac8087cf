"""The surfel size tables against the lookup tables of DeepMind's surface-distance."""

from __future__ import annotations

import numpy as np
import pytest
from surface_distance import lookup_tables

from pymia.evaluation.metric.surface_elements import neighbourhood_sizes


def _deepmind_code(ours: int, ndim: int) -> int:
    """Translate our code (bit b = voxel at unravel_index(b, (2,)*ndim)) to DeepMind's kernel encoding."""
    kernel = lookup_tables.ENCODE_NEIGHBOURHOOD_3D_KERNEL if ndim == 3 else lookup_tables.ENCODE_NEIGHBOURHOOD_2D_KERNEL
    corners = np.array([(ours >> bit) & 1 for bit in range(2**ndim)], dtype=bool).reshape((2,) * ndim)
    return int(np.sum(kernel[corners]))


@pytest.mark.parametrize("spacing", [(1.0, 1.0, 1.0), (1.3, 0.7, 2.1), (3.0, 0.5, 0.5)])
def test_surface_areas_equal_deepmind_table(spacing):
    """Reference: surface_distance.lookup_tables.create_table_neighbour_code_to_surface_area."""
    theirs = lookup_tables.create_table_neighbour_code_to_surface_area(spacing)
    ours = neighbourhood_sizes(spacing)
    for code in range(256):
        assert ours[code] == pytest.approx(theirs[_deepmind_code(code, 3)], rel=1e-12, abs=1e-15), code


@pytest.mark.parametrize("spacing", [(1.0, 1.0), (1.3, 0.7), (0.25, 4.0)])
def test_contour_lengths_equal_deepmind_table(spacing):
    """Reference: surface_distance.lookup_tables.create_table_neighbour_code_to_contour_length."""
    theirs = lookup_tables.create_table_neighbour_code_to_contour_length(spacing)
    ours = neighbourhood_sizes(spacing)
    for code in range(16):
        assert ours[code] == pytest.approx(theirs[_deepmind_code(code, 2)], rel=1e-12, abs=1e-15), code


def test_complementary_codes_have_equal_size():
    """A neighbourhood and its complement share the same surface (closed form: symmetry of the iso-surface)."""
    areas = neighbourhood_sizes((1.1, 0.9, 1.7))
    assert np.allclose(areas, areas[::-1])
    lengths = neighbourhood_sizes((1.1, 0.9))
    assert np.allclose(lengths, lengths[::-1])


def test_sizes_need_2d_or_3d():
    with pytest.raises(ValueError, match="2-D and 3-D"):
        neighbourhood_sizes((1.0,) * 4)
