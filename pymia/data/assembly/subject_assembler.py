"""Assemble network outputs for samples back into whole subjects, in any order, with blending.

:class:`SubjectAssembler` collects outputs batch by batch (``add_batch``), places each at the region
its sample came from (slices, patches, slabs, tri-planar planes), blends overlaps (mean, Gaussian,
crop-to-centre or overwrite) and reports a subject as ready once all its samples have arrived, so
shuffled loaders and several workers are fine. Outputs come back cropped to the subject's volume.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import SimpleITK as sitk

from pymia.data.assembly.accumulator import VolumeAccumulator
from pymia.data.assembly.interaction import AssembleInteractionFn
from pymia.data.conversion import NumpySimpleITKImageBridge
from pymia.data.extraction.sample_expression import placements
from pymia.data.indexexpression import IndexExpression
from pymia.errors import InvalidInputError

__all__ = ["Assembler", "Subject2dAssembler", "SubjectAssembler", "numpy_zeros"]

#: Key used when ``add_batch`` gets a plain array instead of a dictionary.
PREDICTION_KEY = "__prediction"

ZeroFn = Callable[[tuple[int, ...], str, int], np.ndarray]


def numpy_zeros(shape: tuple[int, ...], assembling_key: str, subject_index: int) -> np.ndarray:
    """Default buffer factory (pymia 0.3.4 signature): float32 zeros of ``shape``."""
    return np.zeros(shape, dtype=np.float32)


class Assembler(abc.ABC):
    """Base class of assemblers."""

    @abc.abstractmethod
    def add_batch(self, to_assemble: Any, sample_indices: Any, last_batch: bool = False, **kwargs: Any) -> None:
        """Add the outputs of a batch of samples."""

    @property
    @abc.abstractmethod
    def subjects_ready(self) -> set[int]:
        """Indices of subjects whose samples have all arrived."""

    @abc.abstractmethod
    def get_assembled_subject(self, subject_index: int) -> Any:
        """Return (and release) an assembled subject."""


def _as_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    return np.asarray(value)


class SubjectAssembler(Assembler):
    """Assemble outputs for the samples of a datasource into whole subjects.

    Parameters
    ----------
    datasource : PymiaDatasource
        The datasource the samples came from (for their regions and the subjects' shapes).
    zero_fn : callable, optional
        ``zero_fn(shape, key, subject_index) -> array`` creating a zero buffer (pymia 0.3.4 hook).
        Default: zeros of ``dtype``.
    assemble_interaction_fn : AssembleInteractionFn, optional
        Called as ``fn(key, data, index_expr)`` for each sample before it is placed.
    blending : {'mean', 'gaussian', 'crop', 'overwrite'}, default 'mean'
        How overlapping samples are combined. ``'gaussian'`` weights each sample with a Gaussian of
        sigma ``sigma_scale`` × sample size; ``'crop'`` keeps only the centre of each sample
        (``crop_border`` voxels per axis are dropped wherever another sample covers them);
        ``'overwrite'`` lets the last sample win (pymia 0.3.4).
    sigma_scale : float, default 0.125
        Gaussian sigma as a fraction of the sample size.
    crop_border : int or sequence of int, default 0
        Border per axis discarded in ``'crop'`` mode.
    dtype : numpy dtype, default float32
        Dtype of the assembled arrays. Integer dtypes (label maps) are blended in float32 and rounded.
    threads : int, default 1
        Threads that accumulate large samples (3-D patches) in parallel slabs with NumPy kernels
        (NumPy releases the GIL). Memory-bound: on the 2-core reference machine 2 threads gained little.
    kernel : {'auto', 'numpy', 'torch'}, default 'auto'
        What adds outputs into the volume: ``'auto'`` uses torch's kernels when the process has
        imported torch (about 2× faster into strided regions), else NumPy; see
        :class:`~pymia.data.assembly.accumulator.VolumeAccumulator`.

    Notes
    -----
    A subject is ready when as many outputs arrived as the datasource has samples for it, or, with
    ``last_batch=True``, for every subject seen. Outputs of a sample are shaped like the sample
    (``(..., C)``; a missing channel axis is added): slices ``(Y, X, C)``, patches ``(z, y, x, C)``,
    slabs their centre slice, tri-planar samples ``(3, H, W, C)``.

    Examples
    --------
    >>> assembler = SubjectAssembler(datasource, blending='gaussian')          # doctest: +SKIP
    >>> for batch in loader:                                                    # doctest: +SKIP
    ...     assembler.add_batch(net(batch['images']), batch['sample_index'])
    ...     for subject_index in list(assembler.subjects_ready):
    ...         volume = assembler.get_assembled_subject(subject_index)       # (Z, Y, X, C)
    """

    def __init__(
        self,
        datasource: Any,
        zero_fn: ZeroFn | None = None,
        assemble_interaction_fn: AssembleInteractionFn | Callable[..., Any] | None = None,
        *,
        blending: str = "mean",
        sigma_scale: float = 0.125,
        crop_border: int | Sequence[int] = 0,
        dtype: Any = np.float32,
        threads: int = 1,
        kernel: str = "auto",
    ) -> None:
        self.datasource = datasource
        self.threads = threads
        self.kernel = kernel
        self.zero_fn = zero_fn
        self.assemble_interaction_fn = assemble_interaction_fn
        self.blending = blending
        self.sigma_scale = sigma_scale
        self.crop_border = crop_border
        self.dtype = np.dtype(dtype)
        VolumeAccumulator((1,), 1, self.dtype, blending, kernel=kernel)  # validates blending and kernel now
        self._accumulators: dict[int, dict[str, dict[Any, VolumeAccumulator]]] = {}
        self._received: dict[int, int] = {}
        self._ready: set[int] = set()
        self._expected_counts: dict[int, int] = {}
        self._keys: list[str] | None = None

    # -- public interface -------------------------------------------------------------------------
    @property
    def subjects_ready(self) -> set[int]:
        """Indices of subjects whose samples have all arrived (updated by :meth:`add_batch`)."""
        return self._ready

    def add_batch(self, to_assemble: Any, sample_indices: Any, last_batch: bool = False, **kwargs: Any) -> None:
        """Add the outputs of a batch.

        Parameters
        ----------
        to_assemble : numpy.ndarray, tensor or dict of them
            Outputs, (B, ...sample shape..., C); a dictionary assembles several outputs per sample.
        sample_indices : sequence of int, numpy.ndarray or tensor
            The ``sample_index`` of each output, (B,).
        last_batch : bool, default False
            Mark every subject seen so far as ready (for loaders that skip samples).
        """
        outputs = to_assemble if isinstance(to_assemble, dict) else {PREDICTION_KEY: to_assemble}
        outputs = {key: _as_numpy(value) for key, value in outputs.items()}
        indices = _as_numpy(sample_indices).astype(np.int64).reshape(-1)
        for key, value in outputs.items():
            if len(value) != len(indices):
                raise InvalidInputError(
                    f"'{key}' holds {len(value)} outputs but {len(indices)} sample indices were given"
                )
        if self._keys is None:
            self._keys = list(outputs)
        for position, sample_index in enumerate(indices.tolist()):
            subject_index, index_expr = self.datasource.sample_location(sample_index)
            for key, value in outputs.items():
                self._add(subject_index, key, value[position], index_expr)
            self._received[subject_index] = self._received.get(subject_index, 0) + 1
            if self._received[subject_index] >= self._expected(subject_index):
                self._ready.add(subject_index)
        if last_batch:
            self._ready.update(self._accumulators)

    def get_assembled_subject(self, subject_index: int) -> np.ndarray | dict[str, np.ndarray]:
        """Return the assembled subject and release its buffers.

        Returns
        -------
        numpy.ndarray or dict
            ``(spatial..., C)`` in ``dtype`` for array inputs; a dictionary per key for dict inputs.
        """
        if subject_index not in self._accumulators:
            raise InvalidInputError(
                f"subject {subject_index} has no outputs in the assembler (subjects with outputs: "
                f"{sorted(self._accumulators)})"
            )
        self._ready.discard(subject_index)
        self._received.pop(subject_index, None)
        per_key = self._accumulators.pop(subject_index)
        results = {key: self._finish(accumulators) for key, accumulators in per_key.items()}
        if list(results) == [PREDICTION_KEY]:
            return results[PREDICTION_KEY]
        return results

    def get_assembled_image(self, subject_index: int) -> sitk.Image | dict[str, sitk.Image]:
        """The assembled subject as SimpleITK image(s) with the subject's origin, spacing and direction."""
        properties = self.datasource.reader.image_properties(subject_index)
        assembled = self.get_assembled_subject(subject_index)
        if isinstance(assembled, dict):
            return {key: NumpySimpleITKImageBridge.convert(value, properties) for key, value in assembled.items()}
        return NumpySimpleITKImageBridge.convert(assembled, properties)

    # -- internals --------------------------------------------------------------------------------
    def _expected(self, subject_index: int) -> int:
        """Number of samples the datasource has for a subject (looked up once per subject)."""
        expected = self._expected_counts.get(subject_index)
        if expected is None:
            expected = self._expected_counts[subject_index] = len(self.datasource.samples_of_subject(subject_index))
        return expected

    def _plane(self, index_expr: IndexExpression) -> Any:
        """Which partial volume a region goes to (one for this assembler; one per plane for 2.5-D)."""
        return None

    def _finish(self, accumulators: dict[Any, VolumeAccumulator]) -> np.ndarray:
        (accumulator,) = accumulators.values()
        return accumulator.result()

    def _accumulator(self, subject_index: int, key: str, plane: Any, channels: int) -> VolumeAccumulator:
        per_key = self._accumulators.setdefault(subject_index, {}).setdefault(key, {})
        accumulator = per_key.get(plane)
        if accumulator is None:
            shape = self.datasource.spatial_shape(subject_index)
            buffer = None
            if self.zero_fn is not None:
                buffer = np.asarray(self.zero_fn((*shape, channels), key, subject_index))
            accumulator = VolumeAccumulator(
                shape,
                channels,
                self.dtype,
                self.blending,
                sigma_scale=self.sigma_scale,
                crop_border=self.crop_border,
                buffer=buffer,
                threads=self.threads,
                kernel=self.kernel,
            )
            per_key[plane] = accumulator
        elif accumulator.channels != channels:
            raise InvalidInputError(
                f"'{key}' of subject {subject_index} had {accumulator.channels} channels, now {channels}"
            )
        return accumulator

    def _add(self, subject_index: int, key: str, data: np.ndarray, index_expr: IndexExpression) -> None:
        if self.assemble_interaction_fn is not None:
            data, index_expr = self.assemble_interaction_fn(key, data, index_expr)
        shape = self.datasource.spatial_shape(subject_index)
        for region, values in placements(index_expr, data, shape):
            box = region.box(shape)
            squeeze = region.squeeze_axes
            n_kept = len(box) - len(squeeze)
            if values.ndim == n_kept:
                values = values[..., None]
            if values.ndim != n_kept + 1:
                raise InvalidInputError(
                    f"output of shape {values.shape} for '{key}' does not fit region {region!r} of subject "
                    f"{subject_index} (expected {n_kept} spatial axes plus channels)"
                )
            if squeeze:
                values = np.expand_dims(values, squeeze)
            accumulator = self._accumulator(subject_index, key, self._plane(region), values.shape[-1])
            accumulator.add(region, values)


class Subject2dAssembler(SubjectAssembler):
    """Assembler for datasets of 2-D images (kept as a pymia 0.3.4 name).

    :class:`SubjectAssembler` handles 2-D volumes (samples: whole images, rows, 2-D patches)
    directly; this class is the same with the 0.3.4 constructor.
    """
