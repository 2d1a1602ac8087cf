"""Base classes of the metric objects and the inputs they share.

An evaluator builds one :class:`SegmentationInputs` per (subject, label), or one
:class:`ContinuousInputs` per subject, and passes it to every metric's
:meth:`Metric.calculate_from`. The inputs compute what several metrics need (the confusion matrix,
the surface distances) once, on first use, and keep it.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import numpy as np

from pymia.errors import InvalidInputError
from pymia.evaluation.metric.arrays import (
    ArrayOrImage,
    Spacing,
    as_binary_mask,
    as_float_array,
    check_same_shape,
    resolve_spacing,
    to_array,
)
from pymia.evaluation.metric.confusion import ConfusionMatrix
from pymia.evaluation.metric.surface import SURFACE_METHODS, SurfaceDistances, compute_surface_distances

__all__ = ["ContinuousInputs", "ContinuousMetric", "Metric", "SegmentationInputs", "SegmentationMetric"]


class SegmentationInputs:
    """One label of a segmentation and its reference, with everything the metrics share.

    Parameters
    ----------
    reference, prediction : numpy.ndarray or SimpleITK.Image
        Binary masks of the same shape (boolean, or numeric with the values 0 and 1 only), any number
        of axes, numpy axis order (z, y, x). The spacing of SimpleITK images is used.
    spacing : sequence of float, optional
        Voxel spacing in mm in numpy order (z, y, x). Default: the images' spacing, else 1 mm per axis.

    Attributes
    ----------
    reference, prediction : numpy.ndarray of bool
        The masks.
    spacing : tuple of float
        The spacing in mm, numpy order.

    Notes
    -----
    The confusion matrix (:attr:`confusion_matrix`) and the surface distances of each method
    (:meth:`surface_distances`) are computed once, when a metric first asks for them. Surface
    distances are computed on the bounding box of both masks, so memory and time grow with the
    size of the objects, not of the image.

    Examples
    --------
    >>> import numpy as np
    >>> reference = np.zeros((10, 10), bool); reference[2:6, 2:6] = True
    >>> prediction = np.zeros((10, 10), bool); prediction[3:7, 2:6] = True
    >>> inputs = SegmentationInputs(reference, prediction, spacing=(2.0, 1.0))
    >>> inputs.confusion_matrix.tp
    12
    >>> float(inputs.surface_distances("voxel").hausdorff(100.0))
    2.0
    """

    def __init__(self, reference: ArrayOrImage, prediction: ArrayOrImage, spacing: Spacing = None) -> None:
        reference_array, reference_spacing = to_array(reference, "reference")
        prediction_array, prediction_spacing = to_array(prediction, "prediction")
        self.reference: np.ndarray = as_binary_mask(reference_array, "reference")
        self.prediction: np.ndarray = as_binary_mask(prediction_array, "prediction")
        check_same_shape(self.reference, self.prediction)
        self.spacing: tuple[float, ...] = resolve_spacing(
            spacing, self.reference.ndim, reference_spacing, prediction_spacing
        )
        self._confusion_matrix: ConfusionMatrix | None = None
        self._surface_distances: dict[str, SurfaceDistances] = {}

    @property
    def ndim(self) -> int:
        """Number of axes of the masks."""
        return self.reference.ndim

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the masks, numpy order."""
        return self.reference.shape

    @property
    def voxel_volume(self) -> float:
        """Volume of one voxel in mm³ (area in mm² for 2-D masks): the product of the spacing."""
        return float(np.prod(self.spacing))

    @property
    def confusion_matrix(self) -> ConfusionMatrix:
        """Voxel counts tp, fp, tn, fn (computed on first access)."""
        if self._confusion_matrix is None:
            self._confusion_matrix = ConfusionMatrix.from_masks(self.reference, self.prediction)
        return self._confusion_matrix

    def surface_distances(self, method: str = "surfel") -> SurfaceDistances:
        """The distances between the two surfaces, computed once per method.

        Parameters
        ----------
        method : {'surfel', 'voxel'}
            ``'surfel'``: surface elements weighted by their area (as DeepMind's surface-distance).
            ``'voxel'``: boundary voxels, each with weight 1 (as MONAI and medpy).

        Returns
        -------
        SurfaceDistances
        """
        if method not in SURFACE_METHODS:
            raise InvalidInputError(f"method must be one of {SURFACE_METHODS}, got {method!r}.")
        if method not in self._surface_distances:
            self._surface_distances[method] = compute_surface_distances(
                self.reference, self.prediction, spacing=self.spacing, method=method
            )
        return self._surface_distances[method]


class ContinuousInputs:
    """A continuous prediction (reconstruction, regression) and its reference, optionally masked.

    Parameters
    ----------
    reference, prediction : numpy.ndarray or SimpleITK.Image
        Real-valued arrays of the same shape, numpy axis order (z, y, x). Integer and boolean arrays
        become float64; float32 stays float32.
    spacing : sequence of float, optional
        Voxel spacing in mm in numpy order; the continuous metrics do not use it, it is kept for
        symmetry with :class:`SegmentationInputs`.
    mask : numpy.ndarray or SimpleITK.Image, optional
        Binary mask of the same shape: only these voxels are compared. Default: all voxels.

    Attributes
    ----------
    reference, prediction : numpy.ndarray
        The float arrays.
    mask : numpy.ndarray of bool or None
        The mask.
    spacing : tuple of float
        The spacing in mm, numpy order.
    """

    def __init__(
        self,
        reference: ArrayOrImage,
        prediction: ArrayOrImage,
        spacing: Spacing = None,
        mask: ArrayOrImage | None = None,
    ) -> None:
        reference_array, reference_spacing = to_array(reference, "reference")
        prediction_array, prediction_spacing = to_array(prediction, "prediction")
        self.reference: np.ndarray = as_float_array(reference_array, "reference")
        self.prediction: np.ndarray = as_float_array(prediction_array, "prediction")
        check_same_shape(self.reference, self.prediction)
        self.spacing: tuple[float, ...] = resolve_spacing(
            spacing, self.reference.ndim, reference_spacing, prediction_spacing
        )
        self.mask: np.ndarray | None = None
        if mask is not None:
            mask_array = as_binary_mask(to_array(mask, "mask")[0], "mask")
            if mask_array.shape != self.reference.shape:
                raise InvalidInputError(
                    f"mask has shape {mask_array.shape} but reference and prediction have shape "
                    f"{self.reference.shape}; give a mask on the same grid."
                )
            self.mask = mask_array
        self._values: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def ndim(self) -> int:
        """Number of axes of the arrays."""
        return self.reference.ndim

    def values(self) -> tuple[np.ndarray, np.ndarray]:
        """The compared voxel values as two 1-D float64 arrays (reference, prediction), masked if a mask is set."""
        if self._values is None:
            if self.mask is None:
                reference = self.reference.ravel()
                prediction = self.prediction.ravel()
            else:
                reference = self.reference[self.mask]
                prediction = self.prediction[self.mask]
            self._values = (reference.astype(np.float64, copy=False), prediction.astype(np.float64, copy=False))
        return self._values


class Metric(abc.ABC):
    """Base class of the metric objects.

    A metric object holds its options (e.g. the percentile) and its id, the name of its column in
    results. It keeps no state between calls, so one object can serve many subjects and processes.

    Parameters
    ----------
    metric : str
        The metric id (column name in results), e.g. ``'DICE'``.

    Attributes
    ----------
    metric : str
        The metric id.
    kind : str
        ``'segmentation'`` or ``'continuous'``: which inputs the metric takes.
    """

    kind: ClassVar[str] = ""

    def __init__(self, metric: str) -> None:
        if not isinstance(metric, str) or not metric:
            raise InvalidInputError(f"metric must be a non-empty string (the metric id), got {metric!r}.")
        self.metric: str = metric

    def options(self) -> dict[str, Any]:
        """The constructor options of this metric (without ``metric``), e.g. ``{'percentile': 95.0}``."""
        return {}

    @abc.abstractmethod
    def calculate_from(self, inputs: Any) -> float:
        """Compute the metric from shared inputs (:class:`SegmentationInputs` or :class:`ContinuousInputs`)."""

    def __repr__(self) -> str:
        arguments = [f"{key}={value!r}" for key, value in self.options().items()]
        arguments.append(f"metric={self.metric!r}")
        return f"{type(self).__name__}({', '.join(arguments)})"


class SegmentationMetric(Metric):
    """A metric of one label of a segmentation, computed from :class:`SegmentationInputs`."""

    kind: ClassVar[str] = "segmentation"

    def calculate_from(self, inputs: SegmentationInputs) -> float:
        """Compute the metric from shared inputs.

        Parameters
        ----------
        inputs : SegmentationInputs
            The masks of one label, with the shared confusion matrix and surface distances.

        Returns
        -------
        float
            The value; ``nan`` (with a :class:`~pymia.errors.NotComputableMetricWarning`) when undefined.
        """
        if not isinstance(inputs, SegmentationInputs):
            raise InvalidInputError(
                f"{type(self).__name__} needs SegmentationInputs, got {type(inputs).__name__}; "
                "build them with SegmentationInputs(reference, prediction, spacing)."
            )
        return float(self._calculate(inputs))

    def __call__(self, reference: ArrayOrImage, prediction: ArrayOrImage, *, spacing: Spacing = None) -> float:
        """Compute the metric of two binary masks (see :class:`SegmentationInputs` for the arguments)."""
        return self.calculate_from(SegmentationInputs(reference, prediction, spacing))

    @abc.abstractmethod
    def _calculate(self, inputs: SegmentationInputs) -> float:
        """Compute the value from checked inputs."""


class ContinuousMetric(Metric):
    """A metric of a continuous prediction, computed from :class:`ContinuousInputs`."""

    kind: ClassVar[str] = "continuous"

    def calculate_from(self, inputs: ContinuousInputs) -> float:
        """Compute the metric from shared inputs.

        Parameters
        ----------
        inputs : ContinuousInputs
            The reference and prediction (and optional mask).

        Returns
        -------
        float
            The value; ``nan`` (with a :class:`~pymia.errors.NotComputableMetricWarning`) when undefined.
        """
        if not isinstance(inputs, ContinuousInputs):
            raise InvalidInputError(
                f"{type(self).__name__} needs ContinuousInputs, got {type(inputs).__name__}; "
                "build them with ContinuousInputs(reference, prediction, spacing, mask)."
            )
        return float(self._calculate(inputs))

    def __call__(
        self,
        reference: ArrayOrImage,
        prediction: ArrayOrImage,
        *,
        spacing: Spacing = None,
        mask: ArrayOrImage | None = None,
    ) -> float:
        """Compute the metric of two arrays (see :class:`ContinuousInputs` for the arguments)."""
        return self.calculate_from(ContinuousInputs(reference, prediction, spacing, mask))

    @abc.abstractmethod
    def _calculate(self, inputs: ContinuousInputs) -> float:
        """Compute the value from checked inputs."""
