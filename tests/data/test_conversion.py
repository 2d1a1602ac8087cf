"""Tests of pymia.data.conversion against SimpleITK: geometry and arrays for 2-D, 3-D, 4-D and vector images."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from pymia.data.conversion import ImageProperties, NumpySimpleITKImageBridge, SimpleITKNumpyImageBridge
from pymia.errors import InvalidInputError
from pymia.testing.phantoms import oblique_direction


def _image(shape, *, spacing, origin, direction, vector=False):
    array = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    image = sitk.GetImageFromArray(array, isVector=vector)
    image.SetSpacing(spacing)
    image.SetOrigin(origin)
    image.SetDirection(direction)
    return image, array


@pytest.mark.parametrize(
    ("shape", "spacing", "origin"),
    [((5, 7), (0.5, 2.0), (1.0, -3.0)), ((3, 5, 7), (0.5, 1.0, 3.0), (1.0, 2.0, -4.5))],
    ids=["2d", "3d"],
)
def test_properties_round_trip_with_oblique_direction(shape, spacing, origin):
    direction = oblique_direction(len(shape), 25.0)
    image, array = _image(shape, spacing=spacing, origin=origin, direction=direction)
    props = ImageProperties(image)
    assert props.size == tuple(reversed(shape)) and props.numpy_shape == shape
    assert props.dimensions == len(shape) and props.components == 1
    np.testing.assert_allclose(props.direction, direction)
    back = NumpySimpleITKImageBridge.convert(array, props)
    assert back.GetSize() == image.GetSize()
    np.testing.assert_allclose(back.GetDirection(), image.GetDirection())
    np.testing.assert_allclose(back.GetOrigin(), origin)
    np.testing.assert_allclose(back.GetSpacing(), spacing)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(back), array)
    arr2, props2 = SimpleITKNumpyImageBridge.convert(back)
    np.testing.assert_array_equal(arr2, array)
    assert props2 == props


def test_vector_and_trailing_channel_and_flat_arrays():
    image, array = _image((4, 5, 3), spacing=(1.0, 2.0), origin=(0.0, 0.0), direction=(1, 0, 0, 1), vector=True)
    props = ImageProperties(image)
    assert props.components == 3 and props.numpy_shape == (4, 5)
    back = NumpySimpleITKImageBridge.convert(array, props)
    assert back.GetNumberOfComponentsPerPixel() == 3
    np.testing.assert_array_equal(sitk.GetArrayFromImage(back), array)
    scalar = ImageProperties.from_geometry((5, 4))
    assert NumpySimpleITKImageBridge.convert(np.zeros((4, 5, 1)), scalar).GetNumberOfComponentsPerPixel() == 1
    assert NumpySimpleITKImageBridge.convert(np.zeros(20), scalar).GetSize() == (5, 4)


def test_four_d_image_properties():
    image = sitk.Image([4, 3, 2, 2], sitk.sitkInt16)
    image.SetSpacing((1.0, 2.0, 3.0, 2000.0))
    props = ImageProperties(image)
    assert props.dimensions == 4 and len(props.direction) == 16 and props.numpy_shape == (2, 2, 3, 4)


def test_from_geometry_defaults_and_errors():
    props = ImageProperties.from_geometry((3, 4, 5))
    assert props.origin == (0.0,) * 3 and props.spacing == (1.0,) * 3 and props.direction == tuple(np.eye(3).ravel())
    with pytest.raises(InvalidInputError, match="does not fit a 3-D image"):
        ImageProperties.from_geometry((3, 4, 5), spacing=(1.0, 1.0))


def test_geometry_comparison_uses_tolerance():
    a = ImageProperties.from_geometry((3, 4), origin=(0.0, 0.0))
    b = ImageProperties.from_geometry((3, 4), origin=(1e-7, 0.0))
    c = ImageProperties.from_geometry((3, 4), origin=(0.1, 0.0))
    assert a == b and a != c and a.is_same_geometry(c, tolerance=0.2)
    assert a != ImageProperties.from_geometry((3, 5))


def test_convert_rejects_wrong_shape():
    with pytest.raises(InvalidInputError, match="does not fit an image of numpy shape"):
        NumpySimpleITKImageBridge.convert(np.zeros((2, 2)), ImageProperties.from_geometry((3, 4)))
