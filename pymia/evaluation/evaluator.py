"""Evaluators: compute a list of metrics for each subject (and label) and collect the results.

:class:`SegmentationEvaluator` evaluates label images per label; :class:`ContinuousEvaluator` evaluates
reconstructions and regressions (optionally inside a mask). Both take numpy arrays, SimpleITK images or
image files, check that prediction and reference share one grid, take the spacing from the images,
and evaluate a whole cohort with :meth:`Evaluator.evaluate_cohort` (optionally on a process pool).
The results are :class:`Result` objects that the writers of :mod:`pymia.evaluation.writer` take.
"""

from __future__ import annotations

import abc
import concurrent.futures
import copy
import dataclasses
import os
import pathlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
import SimpleITK as sitk
from tqdm.auto import tqdm

from pymia.errors import GeometryMismatchError, InvalidInputError, MissingFileError
from pymia.evaluation.metric import ContinuousInputs, Metric, SegmentationInputs

__all__ = [
    "ContinuousEvaluator",
    "Evaluator",
    "ImageLike",
    "Label",
    "Result",
    "SegmentationEvaluator",
    "present_labels",
]

ImageLike: TypeAlias = np.ndarray | sitk.Image | str | os.PathLike
"""What an evaluator takes as prediction, reference or mask: an array in numpy order (z, y, x), a
SimpleITK image, or the path of an image file SimpleITK reads (NIfTI, MetaImage, NRRD, ...)."""

Label: TypeAlias = int | tuple[int, ...]
"""A label value of a segmentation, or a tuple of values evaluated as one merged label."""

# Relative tolerance of the geometry comparison: images written as float32 (NIfTI) differ from their
# float64 originals by ~1e-7, which must not count as a different grid.
_GEOMETRY_TOLERANCE = 1e-4


@dataclasses.dataclass(frozen=True)
class Result:
    """One value of one metric for one subject and label.

    Parameters
    ----------
    id_ : str
        The subject identifier (for statistics: the statistic's name, e.g. ``'MEAN'``).
    label : str
        The label's description (e.g. ``'WM'``); :class:`ContinuousEvaluator` uses its ``label``.
    metric : str
        The metric id, e.g. ``'DICE'`` or ``'HDRFDST95'``.
    value : float
        The value; ``nan`` where the metric is undefined for these inputs.
    """

    id_: str
    label: str
    metric: str
    value: float


class Evaluator(abc.ABC):
    """Base class of the evaluators: a list of metrics, a list of results and :meth:`evaluate`.

    Parameters
    ----------
    metrics : sequence of Metric
        Metric objects of :mod:`pymia.evaluation.metric` whose ``kind`` suits the evaluator; their ids
        (``metric.metric``) must be unique, they become the result columns in this order.

    Attributes
    ----------
    metrics : list of Metric
        The metrics, in the order given.
    results : list of Result
        Every result since construction or the last :meth:`clear`, in evaluation order.
    """

    #: The ``kind`` the metrics of this evaluator must have.
    metric_kind: str = ""

    def __init__(self, metrics: Sequence[Metric]) -> None:
        self.metrics = list(metrics)
        seen: set[str] = set()
        for metric in self.metrics:
            if not hasattr(metric, "calculate_from") or not hasattr(metric, "metric"):
                raise InvalidInputError(
                    f"{metric!r} is not a metric object; pass instances such as DiceCoefficient() or "
                    "pymia.evaluation.metric.metric_from_id('DICE')"
                )
            kind = getattr(metric, "kind", None)
            if kind != self.metric_kind:
                raise InvalidInputError(
                    f"metric {metric.metric!r} is a {kind} metric, but {type(self).__name__} evaluates "
                    f"{self.metric_kind} metrics; use "
                    f"{'ContinuousEvaluator' if kind == 'continuous' else 'SegmentationEvaluator'} for it"
                )
            if metric.metric in seen:
                raise InvalidInputError(
                    f"metric id {metric.metric!r} appears twice; give one of them another id with the "
                    "metric= keyword, e.g. HausdorffDistance(percentile=95, metric='HDRFDST95')"
                )
            seen.add(metric.metric)
        self.results: list[Result] = []

    @abc.abstractmethod
    def evaluate(
        self, prediction: ImageLike, reference: ImageLike, id_: str, *args: Any, **kwargs: Any
    ) -> list[Result]:
        """Evaluate one subject, append the results to :attr:`results` and return them."""

    def clear(self) -> None:
        """Forget all results (the metrics and labels stay)."""
        self.results = []

    def evaluate_cohort(
        self,
        pairs: Iterable[Sequence[Any]],
        *,
        executor: concurrent.futures.Executor | None = None,
        progress: bool = True,
    ) -> list[Result]:
        """Evaluate many subjects, in this process or in parallel on an executor.

        Parameters
        ----------
        pairs : iterable of tuple
            One tuple per subject holding the positional arguments of :meth:`evaluate`:
            ``(prediction, reference, id_)`` (:class:`ContinuousEvaluator` also takes
            ``(prediction, reference, id_, mask)``). Give file paths rather than arrays when using a
            process pool, so each worker reads its own images instead of receiving them pickled.
        executor : concurrent.futures.Executor, optional, keyword-only
            Where to evaluate the subjects, e.g. a ``ProcessPoolExecutor`` or the executor of a
            ``dask.distributed`` client (``client.get_executor()``). The evaluator is pickled to the
            workers, so its metrics must be picklable. Default: one by one in this process.
        progress : bool, keyword-only
            Show a tqdm progress bar (on stderr).

        Returns
        -------
        list of Result
            The new results, in the order of ``pairs`` whatever order the workers finish in; they are
            also appended to :attr:`results`.

        Raises
        ------
        InvalidInputError
            If a tuple has fewer than three entries or two subjects have the same id. An error while
            evaluating one subject (e.g. :class:`~pymia.errors.GeometryMismatchError`) cancels the
            subjects not yet started and is raised here.
        """
        cases = [tuple(pair) for pair in pairs]
        ids: set[str] = set()
        for case in cases:
            if len(case) < 3:
                raise InvalidInputError(
                    f"each entry of pairs must be (prediction, reference, id_), got {len(case)} item(s) of types "
                    f"{tuple(type(item).__name__ for item in case)}"
                )
            if case[2] in ids:
                raise InvalidInputError(f"subject id {case[2]!r} appears twice in pairs; ids must be unique")
            ids.add(case[2])

        template = self._empty_copy()
        bar = tqdm(total=len(cases), desc="evaluating", unit="subject", disable=not progress)
        try:
            if executor is None:
                per_case = []
                for case in cases:
                    per_case.append(_evaluate_case(template, case))
                    bar.update(1)
            else:
                futures = [executor.submit(_evaluate_case, template, case) for case in cases]
                try:
                    for future in concurrent.futures.as_completed(futures):
                        future.result()  # raises the worker's error at once
                        bar.update(1)
                except BaseException:
                    for future in futures:
                        future.cancel()
                    raise
                per_case = [future.result() for future in futures]
        finally:
            bar.close()

        new_results = [result for results in per_case for result in results]
        self.results.extend(new_results)
        return new_results

    def _empty_copy(self) -> Evaluator:
        """A copy with the same configuration and no results (what a worker evaluates with)."""
        clone = copy.copy(self)
        clone.results = []
        return clone


def _evaluate_case(evaluator: Evaluator, case: tuple[Any, ...]) -> list[Result]:
    """Evaluate one subject on a fresh copy of ``evaluator`` (safe in threads and processes)."""
    worker = evaluator._empty_copy()
    return worker.evaluate(*case)


class SegmentationEvaluator(Evaluator):
    """Evaluate label images per label with segmentation metrics.

    For each label the evaluator builds the two boolean masks and one
    :class:`~pymia.evaluation.metric.SegmentationInputs`, which every metric shares (so the confusion
    matrix and the surface distances are computed once per label, not once per metric).

    Parameters
    ----------
    metrics : sequence of Metric
        Segmentation metrics (``kind == 'segmentation'``), e.g.
        :func:`~pymia.evaluation.metric.get_segmentation_metrics`.
    labels : dict, optional
        Label value (int) or tuple of values (merged into one label) → description used as the result's
        ``label``, e.g. ``{1: 'WM', 2: 'GM', (1, 2): 'TISSUE'}``. More can be added with :meth:`add_label`.

    Examples
    --------
    >>> import numpy as np
    >>> from pymia.evaluation.metric import DiceCoefficient
    >>> reference = np.zeros((4, 8, 8), dtype=np.uint8)
    >>> reference[1:3, 2:6, 2:6] = 1
    >>> prediction = reference.copy()
    >>> prediction[1, 2:6, 2:6] = 0
    >>> evaluator = SegmentationEvaluator([DiceCoefficient()], {1: "FOREGROUND"})
    >>> [(r.id_, r.label, r.metric, round(r.value, 4)) for r in evaluator.evaluate(prediction, reference, "S1")]
    [('S1', 'FOREGROUND', 'DICE', 0.6667)]
    """

    metric_kind = "segmentation"

    def __init__(self, metrics: Sequence[Metric], labels: Mapping[Label, str] | None = None) -> None:
        super().__init__(metrics)
        self.labels: dict[Label, str] = {}
        for label, description in (labels or {}).items():
            self.add_label(label, description)

    def add_label(self, label: Label, description: str) -> None:
        """Evaluate ``label`` (an int, or a tuple of ints merged into one label) under ``description``.

        Raises
        ------
        InvalidInputError
            If ``label`` is not an int or a non-empty tuple of ints, or ``description`` is not a
            non-empty string or is used already for another label.
        """
        values = label if isinstance(label, tuple) else (label,)
        if not values or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
            raise InvalidInputError(f"label must be an int or a non-empty tuple of ints (merged labels), got {label!r}")
        if not isinstance(description, str) or not description:
            raise InvalidInputError(f"label description must be a non-empty string, got {description!r}")
        key: Label = tuple(int(v) for v in values) if isinstance(label, tuple) else int(label)
        if description in self.labels.values() and self.labels.get(key) != description:
            raise InvalidInputError(
                f"description {description!r} is used already for another label; descriptions name the "
                "result rows and must be unique"
            )
        self.labels[key] = description

    def evaluate(
        self,
        prediction: ImageLike,
        reference: ImageLike,
        id_: str,
        *,
        spacing: Sequence[float] | None = None,
    ) -> list[Result]:
        """Evaluate one subject for every label and metric.

        Parameters
        ----------
        prediction, reference : numpy.ndarray, SimpleITK.Image, str or os.PathLike
            Label images of the same shape, 2-D ``(y, x)`` or 3-D ``(z, y, x)``, integer or boolean
            (float arrays are accepted when every value is a whole number); paths are read with
            SimpleITK.
        id_ : str
            The subject identifier of the results.
        spacing : sequence of float, optional, keyword-only
            Voxel spacing in mm in numpy order (z, y, x). Default: the reference image's spacing (or the
            prediction's) when an image or file is given, else 1 mm per axis.

        Returns
        -------
        list of Result
            The new results, label by label (order of :attr:`labels`), metric by metric; also appended
            to :attr:`results`.

        Raises
        ------
        GeometryMismatchError
            If the shapes differ, or, for two images, their spacing, origin or direction.
        InvalidInputError
            If no label was given, or an image holds a non-integer value.
        """
        if not self.labels:
            raise InvalidInputError(
                "the evaluator has no labels; pass labels={1: 'WM', ...} or call add_label(1, 'WM') first"
            )
        prediction_array, reference_array, _, grid_spacing = _load_pair(prediction, reference, id_)
        for array, role in ((prediction_array, "prediction"), (reference_array, "reference")):
            _check_label_image(array, f"subject {id_!r}: {role}")
        spacing = _checked_spacing(spacing if spacing is not None else grid_spacing, reference_array.ndim, id_)

        new_results = []
        for label, description in self.labels.items():
            if isinstance(label, tuple):
                reference_mask, prediction_mask = np.isin(reference_array, label), np.isin(prediction_array, label)
            else:
                reference_mask, prediction_mask = reference_array == label, prediction_array == label
            inputs = SegmentationInputs(reference_mask, prediction_mask, spacing=spacing)
            for metric in self.metrics:
                new_results.append(Result(id_, description, metric.metric, metric.calculate_from(inputs)))
        self.results.extend(new_results)
        return new_results


class ContinuousEvaluator(Evaluator):
    """Evaluate reconstructions or regressions (intensity images) with continuous metrics.

    Parameters
    ----------
    metrics : sequence of Metric
        Continuous metrics (``kind == 'continuous'``), e.g.
        :func:`~pymia.evaluation.metric.get_reconstruction_metrics`.
    label : str, keyword-only
        The ``label`` of the results (there are no labels in an intensity image); default ``'ALL'``.
        :meth:`evaluate` can override it per call, e.g. ``'BRAIN'`` when evaluating inside a brain mask.
    """

    metric_kind = "continuous"

    def __init__(self, metrics: Sequence[Metric], *, label: str = "ALL") -> None:
        super().__init__(metrics)
        if not isinstance(label, str) or not label:
            raise InvalidInputError(f"label must be a non-empty string, got {label!r}")
        self.label = label

    def evaluate(
        self,
        prediction: ImageLike,
        reference: ImageLike,
        id_: str,
        mask: ImageLike | None = None,
        *,
        spacing: Sequence[float] | None = None,
        label: str | None = None,
    ) -> list[Result]:
        """Evaluate one subject with every metric.

        Parameters
        ----------
        prediction, reference : numpy.ndarray, SimpleITK.Image, str or os.PathLike
            Intensity images of the same shape, 2-D ``(y, x)`` or 3-D ``(z, y, x)``; paths are read with
            SimpleITK.
        id_ : str
            The subject identifier of the results.
        mask : numpy.ndarray, SimpleITK.Image, str or os.PathLike, optional
            Evaluate only where the mask is non-zero; same grid as the reference.
        spacing : sequence of float, optional, keyword-only
            Voxel spacing in mm, numpy order (z, y, x); default from the images, else 1 mm.
        label : str, optional, keyword-only
            The results' label for this call (default the evaluator's ``label``).

        Returns
        -------
        list of Result
            One result per metric, also appended to :attr:`results`.

        Raises
        ------
        GeometryMismatchError
            If prediction, reference (and mask) do not share one grid.
        """
        prediction_array, reference_array, reference_image, grid_spacing = _load_pair(prediction, reference, id_)
        for array, role in ((prediction_array, "prediction"), (reference_array, "reference")):
            if array.dtype.kind not in "biuf":
                raise InvalidInputError(f"subject {id_!r}: {role} has dtype {array.dtype}; give a numeric image")
        mask_array = None
        if mask is not None:
            mask_values, mask_image = _read(mask, f"subject {id_!r}: mask")
            _check_same_grid(mask_values, mask_image, reference_array, reference_image, "mask", id_)
            mask_array = mask_values != 0
        spacing = _checked_spacing(spacing if spacing is not None else grid_spacing, reference_array.ndim, id_)
        description = self.label if label is None else label

        inputs = ContinuousInputs(reference_array, prediction_array, spacing=spacing, mask=mask_array)
        new_results = [
            Result(id_, description, metric.metric, metric.calculate_from(inputs)) for metric in self.metrics
        ]
        self.results.extend(new_results)
        return new_results


def present_labels(image: ImageLike) -> list[int]:
    """The non-zero label values that occur in a label image, sorted.

    Parameters
    ----------
    image : numpy.ndarray, SimpleITK.Image, str or os.PathLike
        A label image (integer or boolean, or floats with whole values); a path is read with SimpleITK.

    Returns
    -------
    list of int

    Raises
    ------
    InvalidInputError
        If the image holds a non-integer value.

    Examples
    --------
    >>> import numpy as np
    >>> present_labels(np.array([[0, 3], [1, 3]], dtype=np.uint8))
    [1, 3]
    """
    what = f"label image {str(image)!r}" if isinstance(image, (str, os.PathLike)) else "label image"
    array, _ = _read(image, what)
    _check_label_image(array, what)
    if array.dtype.kind in "bu" and array.size and int(array.max()) < 2**20:
        counts = np.bincount(array.ravel())  # linear time, where np.unique sorts
        values = np.flatnonzero(counts)
    else:
        values = np.unique(array)
    return [int(v) for v in values if v != 0]


# --- reading inputs and checking their grids ---------------------------------------------------------


def _read(value: ImageLike, what: str) -> tuple[np.ndarray, sitk.Image | None]:
    """The array (numpy order) and, for images and files, the SimpleITK image of ``value``.

    ``what`` names the input in error messages, e.g. ``"subject 'S1': prediction"``.
    """
    if isinstance(value, (str, os.PathLike)):
        path = pathlib.Path(value)
        if not path.is_file():
            raise MissingFileError(f"{what} file {str(path)!r} does not exist")
        try:
            value = sitk.ReadImage(str(path))
        except RuntimeError as error:
            reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
            raise InvalidInputError(
                f"{what}: cannot read file {str(path)!r} ({reason}); give a NIfTI, MetaImage or NRRD image"
            ) from error
    if isinstance(value, sitk.Image):
        if value.GetNumberOfComponentsPerPixel() != 1:
            raise InvalidInputError(
                f"{what} has {value.GetNumberOfComponentsPerPixel()} components per voxel; give a scalar image"
            )
        return sitk.GetArrayFromImage(value), value
    array = np.asarray(value)
    if array.ndim < 2:
        raise InvalidInputError(f"{what} has shape {array.shape}; give a 2-D or 3-D image")
    return array, None


def _load_pair(
    prediction: ImageLike, reference: ImageLike, id_: str
) -> tuple[np.ndarray, np.ndarray, sitk.Image | None, tuple[float, ...] | None]:
    """Read both inputs and check they share one grid.

    Returns the two arrays, the reference image (``None`` for an array) and the spacing in numpy order
    (z, y, x) of the images (``None`` when both are arrays).
    """
    prediction_array, prediction_image = _read(prediction, f"subject {id_!r}: prediction")
    reference_array, reference_image = _read(reference, f"subject {id_!r}: reference")
    _check_same_grid(prediction_array, prediction_image, reference_array, reference_image, "prediction", id_)
    image = reference_image if reference_image is not None else prediction_image
    spacing = tuple(float(s) for s in reversed(image.GetSpacing())) if image is not None else None
    return prediction_array, reference_array, reference_image, spacing


def _check_same_grid(
    array: np.ndarray,
    image: sitk.Image | None,
    reference_array: np.ndarray,
    reference_image: sitk.Image | None,
    role: str,
    id_: str,
) -> None:
    if array.shape != reference_array.shape:
        raise GeometryMismatchError(
            f"subject {id_!r}: {role} shape {array.shape} differs from reference shape {reference_array.shape} "
            f"(numpy order z, y, x); resample the {role} onto the reference grid"
        )
    if image is not None and reference_image is not None:
        _check_same_geometry(image, reference_image, role, id_)


def _check_same_geometry(image: sitk.Image, reference: sitk.Image, role: str, id_: str) -> None:
    spacing = np.asarray(reference.GetSpacing())
    checks = (
        ("spacing", image.GetSpacing(), reference.GetSpacing(), _GEOMETRY_TOLERANCE * spacing),
        ("origin", image.GetOrigin(), reference.GetOrigin(), _GEOMETRY_TOLERANCE * spacing),
        ("direction", image.GetDirection(), reference.GetDirection(), _GEOMETRY_TOLERANCE),
    )
    for name, value, expected, tolerance in checks:
        if not np.all(np.abs(np.subtract(value, expected)) <= tolerance):
            unit = "" if name == "direction" else " mm"
            raise GeometryMismatchError(
                f"subject {id_!r}: {role} {name} {_rounded(value)} differs from reference {name} "
                f"{_rounded(expected)} (SimpleITK order x, y, z{unit}); resample the {role} onto the reference grid"
            )


def _rounded(values: Sequence[float]) -> tuple[float, ...]:
    return tuple(round(float(v), 6) for v in values)


def _check_label_image(array: np.ndarray, what: str) -> None:
    """Raise unless ``array`` holds integer labels (integer or bool dtype, or floats with whole values)."""
    kind = array.dtype.kind
    if kind in "biu":
        return
    if kind == "f":
        not_whole = ~np.isfinite(array) | (np.round(array) != array)
        if not_whole.any():
            value = array[not_whole].flat[0]
            raise InvalidInputError(
                f"{what} contains the non-integer value {float(value)!r}; a segmentation needs "
                "integer labels (evaluate intensity images with ContinuousEvaluator, or pymia-evaluate --continuous)"
            )
        return
    raise InvalidInputError(f"{what} has dtype {array.dtype}; give an integer label image")


def _checked_spacing(spacing: Sequence[float] | None, ndim: int, id_: str) -> tuple[float, ...] | None:
    if spacing is None:
        return None
    values = tuple(float(s) for s in spacing)
    if len(values) != ndim or not all(np.isfinite(values)) or min(values) <= 0:
        raise InvalidInputError(
            f"subject {id_!r}: spacing {values} does not fit a {ndim}-D image; give {ndim} positive values in "
            "mm in numpy order (z, y, x)"
        )
    return values
