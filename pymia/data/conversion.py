"""Conversion between SimpleITK images and numpy arrays, keeping the image geometry.

:class:`ImageProperties` holds the geometry of an image (size, origin, spacing, direction,
components, pixel type); the two bridges turn a numpy array plus properties into a SimpleITK image
and back. Arrays are in numpy axis order (z, y, x[, c]); properties are in ITK order (x, y, z).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import SimpleITK as sitk

from pymia.errors import InvalidInputError

__all__ = ["ImageProperties", "NumpySimpleITKImageBridge", "SimpleITKNumpyImageBridge"]


class ImageProperties:
    """The geometry of a SimpleITK image.

    Parameters
    ----------
    image : SimpleITK.Image
        The image whose properties are read. Any dimension (2-D, 3-D, 4-D) and any number of
        components per pixel.

    Attributes
    ----------
    size : tuple of int
        Image size in ITK order (x, y, z).
    origin : tuple of float
        Physical position of the first voxel in mm, ITK order.
    spacing : tuple of float
        Voxel spacing in mm, ITK order.
    direction : tuple of float
        Direction cosine matrix, row-major, ``dimensions * dimensions`` values.
    dimensions : int
        Number of spatial dimensions.
    components : int
        Number of components per pixel (1 for scalar images).
    pixel_id : int
        SimpleITK pixel type id (e.g. ``sitk.sitkFloat32``).
    """

    def __init__(self, image: sitk.Image) -> None:
        self.size: tuple[int, ...] = tuple(int(s) for s in image.GetSize())
        self.origin: tuple[float, ...] = tuple(float(o) for o in image.GetOrigin())
        self.spacing: tuple[float, ...] = tuple(float(s) for s in image.GetSpacing())
        self.direction: tuple[float, ...] = tuple(float(d) for d in image.GetDirection())
        self.dimensions: int = int(image.GetDimension())
        self.components: int = int(image.GetNumberOfComponentsPerPixel())
        self.pixel_id: int = int(image.GetPixelID())

    @classmethod
    def from_geometry(
        cls,
        size: Sequence[int],
        origin: Sequence[float] | None = None,
        spacing: Sequence[float] | None = None,
        direction: Sequence[float] | None = None,
        *,
        components: int = 1,
        pixel_id: int = sitk.sitkFloat32,
    ) -> ImageProperties:
        """Build properties from stored geometry values (e.g. read back from an HDF5 dataset).

        Parameters
        ----------
        size : sequence of int
            Image size in ITK order (x, y, z).
        origin, spacing : sequence of float, optional
            In mm, ITK order. Default: zeros and ones.
        direction : sequence of float, optional
            Row-major direction matrix with ``len(size)**2`` values. Default: identity.
        components : int, default 1
            Components per pixel.
        pixel_id : int, default ``sitk.sitkFloat32``
            SimpleITK pixel type id.

        Returns
        -------
        ImageProperties
        """
        dim = len(size)
        origin = tuple(origin) if origin is not None else (0.0,) * dim
        spacing = tuple(spacing) if spacing is not None else (1.0,) * dim
        direction = tuple(direction) if direction is not None else tuple(np.eye(dim).ravel())
        if len(origin) != dim or len(spacing) != dim or len(direction) != dim * dim:
            raise InvalidInputError(
                f"geometry does not fit a {dim}-D image of size {tuple(size)}: origin {origin}, "
                f"spacing {spacing} need {dim} values and direction {direction} needs {dim * dim}"
            )
        props = cls.__new__(cls)
        props.size = tuple(int(s) for s in size)
        props.origin = tuple(float(o) for o in origin)
        props.spacing = tuple(float(s) for s in spacing)
        props.direction = tuple(float(d) for d in direction)
        props.dimensions = dim
        props.components = int(components)
        props.pixel_id = int(pixel_id)
        return props

    @property
    def numpy_shape(self) -> tuple[int, ...]:
        """The array shape of the image in numpy order (z, y, x), without the component axis."""
        return tuple(reversed(self.size))

    def copy_to(self, image: sitk.Image) -> sitk.Image:
        """Set origin, spacing and direction of ``image`` to these properties and return it."""
        image.SetOrigin(self.origin)
        image.SetSpacing(self.spacing)
        image.SetDirection(self.direction)
        return image

    def is_same_geometry(self, other: ImageProperties, *, tolerance: float = 1e-5) -> bool:
        """Whether ``other`` has the same size and, within ``tolerance``, origin, spacing, direction."""
        return (
            self.size == other.size
            and np.allclose(self.origin, other.origin, atol=tolerance)
            and np.allclose(self.spacing, other.spacing, atol=tolerance)
            and np.allclose(self.direction, other.direction, atol=tolerance)
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ImageProperties):
            return NotImplemented
        return self.is_same_geometry(other) and self.components == other.components

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return (
            f"ImageProperties(size={self.size}, origin={self.origin}, spacing={self.spacing}, "
            f"direction={self.direction}, components={self.components})"
        )


class NumpySimpleITKImageBridge:
    """Turn a numpy array plus :class:`ImageProperties` into a SimpleITK image."""

    @staticmethod
    def convert(array: np.ndarray, properties: ImageProperties) -> sitk.Image:
        """Convert ``array`` into an image with the geometry of ``properties``.

        Parameters
        ----------
        array : numpy.ndarray
            Shape ``properties.numpy_shape`` for scalar images, or that shape plus a trailing
            component axis (vector image). A trailing axis of length 1 is dropped. A flat array
            with the right number of elements is reshaped.

        Returns
        -------
        SimpleITK.Image
            The image with origin, spacing and direction of ``properties``.
        """
        array = np.asarray(array)
        spatial = properties.numpy_shape
        if array.ndim == 1 and array.size == int(np.prod(spatial)) * max(properties.components, 1):
            array = array.reshape(spatial if properties.components <= 1 else (*spatial, properties.components))
        if array.ndim == len(spatial) + 1 and array.shape[-1] == 1:
            array = array[..., 0]
        if array.shape[: len(spatial)] != spatial:
            raise InvalidInputError(
                f"array of shape {array.shape} does not fit an image of numpy shape {spatial}; "
                "reshape or assemble the array to the subject's shape first"
            )
        is_vector = array.ndim == len(spatial) + 1
        image = sitk.GetImageFromArray(array, isVector=is_vector)
        return properties.copy_to(image)


class SimpleITKNumpyImageBridge:
    """Turn a SimpleITK image into a numpy array plus its :class:`ImageProperties`."""

    @staticmethod
    def convert(image: sitk.Image) -> tuple[np.ndarray, ImageProperties]:
        """Return the voxel array (numpy order, components last) and the image properties."""
        return sitk.GetArrayFromImage(image), ImageProperties(image)
