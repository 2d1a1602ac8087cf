"""Helpers for testing code that uses pymia: phantoms with known volumes, assertions, strategies.

:mod:`pymia.testing.phantoms` builds deterministic numpy phantoms and writes phantom subjects to
disk; :mod:`pymia.testing.assertions` compares images and their geometry;
:mod:`pymia.testing.strategies` (import it explicitly) holds hypothesis strategies. Importing
:mod:`pymia.testing` does not import hypothesis.
"""

from pymia.testing.assertions import assert_images_equal, assert_same_geometry
from pymia.testing.phantoms import (
    NestedEllipsoids,
    ellipsoid_mask,
    ellipsoid_volume,
    intensity_image,
    make_image,
    nested_ellipsoids,
    oblique_direction,
    sphere_mask,
    write_phantom_subjects,
)

__all__ = [
    "NestedEllipsoids",
    "assert_images_equal",
    "assert_same_geometry",
    "ellipsoid_mask",
    "ellipsoid_volume",
    "intensity_image",
    "make_image",
    "nested_ellipsoids",
    "oblique_direction",
    "sphere_mask",
    "write_phantom_subjects",
]
