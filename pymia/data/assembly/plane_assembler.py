"""2.5-D assembly: one partial volume per plane (axial, coronal, sagittal), fused at the end."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from pymia.data.assembly.accumulator import VolumeAccumulator
from pymia.data.assembly.subject_assembler import SubjectAssembler, ZeroFn
from pymia.data.indexexpression import IndexExpression
from pymia.errors import InvalidInputError

__all__ = ["PlaneSubjectAssembler", "majority_vote_merge_fn", "mean_merge_fn"]

MergeFn = Callable[[list[np.ndarray]], np.ndarray]


def mean_merge_fn(planes: list[np.ndarray]) -> np.ndarray:
    """Voxel-wise mean of the per-plane volumes (probabilities, intensities)."""
    result = planes[0].astype(np.float32, copy=True)
    for plane in planes[1:]:
        result += plane
    result /= len(planes)
    return result.astype(planes[0].dtype, copy=False) if np.issubdtype(planes[0].dtype, np.floating) else result


def majority_vote_merge_fn(planes: list[np.ndarray]) -> np.ndarray:
    """Voxel-wise majority vote of per-plane label maps; ties go to the first plane (axial).

    Works for any number of planes: the value seen most often wins, the earliest plane breaks ties.
    """
    stacked = np.stack(planes)
    best = stacked[0].copy()
    best_votes = (stacked == stacked[0]).sum(axis=0)
    for candidate in stacked[1:]:
        votes = (stacked == candidate).sum(axis=0)
        better = votes > best_votes
        best[better] = candidate[better]
        best_votes[better] = votes[better]
    return best


class PlaneSubjectAssembler(SubjectAssembler):
    """Assemble samples taken in several planes and fuse the planes (2.5-D).

    Works with :class:`~pymia.data.extraction.SliceIndexing` over several axes (one sample per
    slice and plane) and with :class:`~pymia.data.extraction.TriPlanarIndexing` (three planes in one
    sample). Each plane is assembled on its own, then the planes are fused voxel-wise.

    Parameters
    ----------
    datasource : PymiaDatasource
        The datasource the samples came from.
    merge_fn : callable, optional
        ``merge_fn(list_of_plane_volumes) -> volume``. Default: :func:`mean_merge_fn`, or
        :func:`majority_vote_merge_fn` when ``dtype`` is an integer type (label maps).
    zero_fn : callable, optional
        Buffer factory (see :class:`SubjectAssembler`).
    dtype : numpy dtype, default float32
        Dtype of the assembled arrays.
    **kwargs
        Further :class:`SubjectAssembler` options (``blending``, ``assemble_interaction_fn``, ...).
    """

    def __init__(
        self,
        datasource: Any,
        merge_fn: MergeFn | None = None,
        zero_fn: ZeroFn | None = None,
        *,
        dtype: Any = np.float32,
        blending: str = "mean",
        sigma_scale: float = 0.125,
        crop_border: int | Sequence[int] = 0,
        assemble_interaction_fn: Any = None,
        threads: int = 1,
        kernel: str = "auto",
    ) -> None:
        super().__init__(
            datasource,
            zero_fn,
            assemble_interaction_fn,
            blending=blending,
            sigma_scale=sigma_scale,
            crop_border=crop_border,
            dtype=dtype,
            threads=threads,
            kernel=kernel,
        )
        if merge_fn is None:
            merge_fn = mean_merge_fn if np.issubdtype(self.dtype, np.floating) else majority_vote_merge_fn
        self.merge_fn = merge_fn

    def _plane(self, index_expr: IndexExpression) -> Any:
        squeeze = index_expr.squeeze_axes
        if len(squeeze) != 1:
            raise InvalidInputError(
                f"PlaneSubjectAssembler assembles 2-D slices, got region {index_expr!r}; "
                "use SubjectAssembler for patches and volumes"
            )
        return squeeze[0]

    def _finish(self, accumulators: dict[Any, VolumeAccumulator]) -> np.ndarray:
        planes = [accumulators[axis].result() for axis in sorted(accumulators)]
        return self.merge_fn(planes)
