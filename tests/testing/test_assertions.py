"""Tests of the image assertions: they pass on equal images and name what differs otherwise."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from pymia.data.conversion import ImageProperties
from pymia.testing import assert_images_equal, assert_same_geometry, make_image, oblique_direction


def _image(**changes):
    geometry = {"spacing": (2.0, 1.0, 0.5), "origin": (1.0, 2.0, 3.0), "direction": oblique_direction(3)}
    array = changes.pop("array", np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6))
    geometry.update(changes)
    return make_image(array, **geometry)


def test_equal_images_pass_including_after_a_nifti_round_trip(tmp_path):
    image = _image()
    assert_same_geometry(image, _image())
    assert_images_equal(image, _image())
    path = tmp_path / "image.nii.gz"
    sitk.WriteImage(image, str(path))
    reread = sitk.ReadImage(str(path))  # geometry stored in single precision
    assert_images_equal(reread, image)
    assert_same_geometry(ImageProperties(reread), ImageProperties(image))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"spacing": (2.0, 1.0, 0.6)}, "spacing"),
        ({"origin": (1.0, 2.0, 3.1)}, "origin"),
        ({"direction": oblique_direction(3, 31.0)}, "direction"),
        ({"array": np.zeros((4, 5, 7), np.float32)}, "size"),
    ],
)
def test_geometry_differences_are_named(changes, message):
    with pytest.raises(AssertionError, match=message):
        assert_same_geometry(_image(**changes), _image())


def test_voxel_and_dtype_differences_fail():
    array = np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6)
    changed = array.copy()
    changed[1, 2, 3] += 0.5
    with pytest.raises(AssertionError, match="voxels"):
        assert_images_equal(_image(array=changed), _image(array=array))
    assert_images_equal(_image(array=changed), _image(array=array), atol=0.5)
    with pytest.raises(AssertionError, match="pixel type"):
        assert_images_equal(_image(array=array.astype(np.float64)), _image(array=array))
    assert_images_equal(_image(array=array.astype(np.float64)), _image(array=array), check_dtype=False)
