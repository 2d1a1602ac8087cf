"""Render one slice of an image with its reference and predicted label maps as an RGB picture.

The picture has three panels side by side: the image, the image with the reference, and the image
with the prediction, each label drawn in its own colour. It is what the TensorBoard logger writes
as an image summary, and works on plain NumPy arrays.
"""

from __future__ import annotations

import numpy as np

from pymia.errors import GeometryMismatchError, InvalidInputError

__all__ = ["LABEL_COLORS", "overlay_slices", "select_slice"]

#: RGB colour of label 1, 2, ... (cycled for higher labels); 0 is background and stays uncoloured.
LABEL_COLORS = np.array(
    [
        (230, 25, 75),  # red
        (60, 180, 75),  # green
        (0, 130, 200),  # blue
        (255, 225, 25),  # yellow
        (145, 30, 180),  # purple
        (70, 240, 240),  # cyan
        (245, 130, 48),  # orange
        (240, 50, 230),  # magenta
    ],
    dtype=np.float32,
)

_SEPARATOR_PIXELS = 2


def _drop_label_channel(labels: np.ndarray, name: str) -> np.ndarray:
    # pymia samples keep a trailing channel axis of size 1 on label maps: (Z, Y, X, 1) or (Y, X, 1).
    if labels.ndim >= 3 and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.ndim not in (2, 3):
        raise InvalidInputError(
            f"{name} must be a 2-D (Y, X) or 3-D (Z, Y, X) label map (optionally with a trailing axis of "
            f"size 1), got shape {labels.shape}"
        )
    return labels


def select_slice(reference: np.ndarray, axis: int = 0) -> int:
    """Return the index of the slice along ``axis`` with the most foreground in ``reference``.

    Parameters
    ----------
    reference : numpy.ndarray
        3-D label map (Z, Y, X); non-zero is foreground.
    axis : int, optional
        Slicing axis (0 = axial, 1 = coronal, 2 = sagittal for a (Z, Y, X) volume).

    Returns
    -------
    int
        The index; the middle slice when ``reference`` is empty.
    """
    other_axes = tuple(a for a in range(reference.ndim) if a != axis)
    counts = np.count_nonzero(reference, axis=other_axes)
    if counts.max(initial=0) == 0:
        return reference.shape[axis] // 2
    return int(np.argmax(counts))


def _to_gray(image: np.ndarray) -> np.ndarray:
    image = image.astype(np.float32, copy=False)
    finite = image[np.isfinite(image)]
    if finite.size == 0:
        return np.zeros(image.shape, np.float32)
    low, high = np.percentile(finite, (1.0, 99.0))
    if high <= low:
        high = low + 1.0
    gray = np.clip((np.nan_to_num(image, nan=low) - low) / (high - low), 0.0, 1.0)
    return gray * 255.0


def _paint(gray: np.ndarray, labels: np.ndarray, alpha: float) -> np.ndarray:
    rgb = np.repeat(gray[..., np.newaxis], 3, axis=-1)
    foreground = labels != 0
    if np.any(foreground):
        color_index = (labels[foreground].astype(np.int64) - 1) % len(LABEL_COLORS)
        rgb[foreground] = (1.0 - alpha) * rgb[foreground] + alpha * LABEL_COLORS[color_index]
    return rgb


def overlay_slices(
    image: np.ndarray,
    reference: np.ndarray,
    prediction: np.ndarray,
    *,
    axis: int = 0,
    slice_index: int | None = None,
    channel: int = 0,
    alpha: float = 0.5,
) -> np.ndarray:
    """Draw a slice of an image next to the same slice with the reference and with the prediction.

    Parameters
    ----------
    image : numpy.ndarray
        Intensities, 2-D (Y, X) or 3-D (Z, Y, X), optionally with a trailing channel axis
        ((Y, X, C) or (Z, Y, X, C)); its spatial shape must equal the label maps' shape.
    reference, prediction : numpy.ndarray
        Integer label maps of the same spatial shape (0 = background), optionally with a trailing
        axis of size 1 as pymia samples have.
    axis : int, optional
        For 3-D volumes, the slicing axis (0 = axial, default).
    slice_index : int, optional
        For 3-D volumes, the slice to draw; default: the slice with the most reference foreground.
    channel : int, optional
        The image channel to draw when ``image`` has a channel axis (default 0).
    alpha : float, optional
        Opacity of the label colours, 0–1 (default 0.5).

    Returns
    -------
    numpy.ndarray
        ``uint8`` RGB picture of shape (H, 3 W + 4, 3), where (H, W) is the slice shape; the panels
        are separated by 2 white columns. Intensities are scaled from their 1st–99th percentile.

    Examples
    --------
    >>> labels = np.zeros((4, 8, 8), np.uint8); labels[2, 2:5, 2:5] = 1
    >>> overlay_slices(np.ones((4, 8, 8)), labels, labels).shape
    (8, 28, 3)
    """
    reference = _drop_label_channel(np.asarray(reference), "reference")
    prediction = _drop_label_channel(np.asarray(prediction), "prediction")
    image = np.asarray(image)
    if image.ndim == reference.ndim + 1:
        if not -image.shape[-1] <= channel < image.shape[-1]:
            raise InvalidInputError(f"channel {channel} is out of range for an image with {image.shape[-1]} channels")
        image = image[..., channel]
    if not image.shape == reference.shape == prediction.shape:
        raise GeometryMismatchError(
            f"image, reference and prediction must have the same spatial shape, got {image.shape}, "
            f"{reference.shape} and {prediction.shape}"
        )
    if not 0.0 <= alpha <= 1.0:
        raise InvalidInputError(f"alpha must be in [0, 1], got {alpha}")
    if reference.ndim == 3:
        if not 0 <= axis < 3:
            raise InvalidInputError(f"axis must be 0, 1 or 2 for a (Z, Y, X) volume, got {axis}")
        if slice_index is None:
            slice_index = select_slice(reference, axis)
        if not 0 <= slice_index < reference.shape[axis]:
            raise InvalidInputError(
                f"slice_index {slice_index} is outside the volume of shape {reference.shape} along axis {axis}"
            )
        image, reference, prediction = (np.take(a, slice_index, axis=axis) for a in (image, reference, prediction))
    gray = _to_gray(image)
    separator = np.full((gray.shape[0], _SEPARATOR_PIXELS, 3), 255.0, np.float32)
    panels = [
        np.repeat(gray[..., np.newaxis], 3, axis=-1),
        separator,
        _paint(gray, reference, alpha),
        separator,
        _paint(gray, prediction, alpha),
    ]
    return np.rint(np.concatenate(panels, axis=1)).astype(np.uint8)
