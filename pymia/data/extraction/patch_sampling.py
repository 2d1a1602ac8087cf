"""Random patch sampling: uniform, weighted by a probability map, or balanced over label classes.

Each sampler is an indexing strategy with ``samples_per_subject`` samples per subject. The position
of sample ``i`` is drawn from a generator seeded by ``(seed, epoch, subject, i)``, so it is the same
in every worker process and changes with :meth:`~IndexingStrategy.set_epoch`. Only the patch is
read from the images; the weighted and label-balanced samplers read the subject's map or labels
once per process and keep compact location tables.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import pymia.data.definition as defs
from pymia.data.extraction.indexing import IndexingStrategy
from pymia.data.indexexpression import IndexExpression
from pymia.errors import InvalidInputError

__all__ = ["LabelBalancedPatchSampling", "UniformPatchSampling", "WeightedPatchSampling"]


def _box(starts: Sequence[int], patch_shape: Sequence[int]) -> IndexExpression:
    expr = IndexExpression.__new__(IndexExpression)
    expr.expression = tuple(slice(int(s), int(s) + int(p)) for s, p in zip(starts, patch_shape))
    return expr


def _start_around(centre: Sequence[int], shape: Sequence[int], patch_shape: Sequence[int]) -> list[int]:
    """Patch start centred on ``centre``, shifted inside the volume where the volume is large enough."""
    starts = []
    for c, size, patch in zip(centre, shape, patch_shape):
        if size >= patch:
            starts.append(min(max(int(c) - patch // 2, 0), size - patch))
        else:
            starts.append(-((patch - size) // 2))  # larger than the volume: centred, padded
    return starts


class _RandomPatchSampling(IndexingStrategy):
    def __init__(self, patch_shape: Sequence[int], samples_per_subject: int = 1, *, seed: int = 0) -> None:
        super().__init__()
        self.patch_shape = tuple(int(p) for p in patch_shape)
        if not self.patch_shape or any(p < 1 for p in self.patch_shape):
            raise InvalidInputError(f"patch_shape must contain positive sizes, got {tuple(patch_shape)}")
        if int(samples_per_subject) < 1:
            raise InvalidInputError(f"samples_per_subject must be at least 1, got {samples_per_subject}")
        self.samples_per_subject = int(samples_per_subject)
        self.seed = int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def count(self, shapes: np.ndarray) -> np.ndarray:
        shapes = np.asarray(shapes, dtype=np.int64)
        if shapes.shape[1] != len(self.patch_shape):
            raise InvalidInputError(
                f"patch shape {self.patch_shape} has {len(self.patch_shape)} axes but the images have "
                f"{shapes.shape[1]} spatial axes"
            )
        return np.full(len(shapes), self.samples_per_subject, dtype=np.int64)

    def _rng(self, subject_index: int, local_index: int) -> np.random.Generator:
        return np.random.default_rng((self.seed, self.epoch, int(subject_index), int(local_index)))

    def __call__(self, shape: Sequence[int]) -> list[IndexExpression]:
        raise InvalidInputError(
            f"{type(self).__name__} draws positions per subject and epoch; use it through PymiaDatasource"
        )

    def expression(self, shape: Sequence[int], local_index: int) -> IndexExpression:
        return self.locate(None, 0, shape, local_index)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(patch_shape={self.patch_shape}, "
            f"samples_per_subject={self.samples_per_subject}, seed={self.seed})"
        )


class UniformPatchSampling(_RandomPatchSampling):
    """Patches at uniformly random positions fully inside the volume (centred and padded if larger).

    Parameters
    ----------
    patch_shape : tuple of int
        Patch size per spatial axis (z, y, x).
    samples_per_subject : int, default 1
        Patches per subject and epoch.
    seed : int, default 0
        Seed; with the epoch, subject and sample number it fixes every position.
    """

    def locate(self, reader: Any, subject_index: int, shape: Sequence[int], local_index: int) -> IndexExpression:
        rng = self._rng(subject_index, local_index)
        starts = []
        for size, patch in zip(shape, self.patch_shape):
            if size >= patch:
                starts.append(int(rng.integers(0, size - patch + 1)))
            else:
                starts.append(-((patch - size) // 2))
        return _box(starts, self.patch_shape)


class _TableSampling(_RandomPatchSampling):
    """Shared part of the samplers that need a per-subject table read from the dataset."""

    needs_reader = True

    def __init__(
        self, patch_shape: Sequence[int], samples_per_subject: int = 1, *, seed: int = 0, cache_size: int = 8
    ) -> None:
        super().__init__(patch_shape, samples_per_subject, seed=seed)
        self.cache_size = max(1, int(cache_size))
        self._tables: OrderedDict[int, Any] = OrderedDict()

    def _table(self, reader: Any, subject_index: int) -> Any:
        if subject_index in self._tables:
            self._tables.move_to_end(subject_index)
            return self._tables[subject_index]
        table = self._build(reader, subject_index)
        self._tables[subject_index] = table
        if len(self._tables) > self.cache_size:
            self._tables.popitem(last=False)
        return table

    def _build(self, reader: Any, subject_index: int) -> Any:
        raise NotImplementedError

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_tables"] = OrderedDict()
        return state


class WeightedPatchSampling(_TableSampling):
    """Patches centred on voxels drawn with probability proportional to a stored map.

    Parameters
    ----------
    patch_shape : tuple of int
        Patch size per spatial axis (z, y, x).
    samples_per_subject : int, default 1
        Patches per subject and epoch.
    probability_category : str, default 'probabilities'
        Category holding the (non-negative) map; its first entry is used.
    seed : int, default 0
        Seed.
    cache_size : int, default 8
        Subjects whose tables each process keeps (12 bytes per voxel of positive probability).

    Notes
    -----
    The patch is shifted inside the volume where possible, as in TorchIO and MONAI, so voxels near
    the border are sampled but not always centred.
    """

    def __init__(
        self,
        patch_shape: Sequence[int],
        samples_per_subject: int = 1,
        probability_category: str = "probabilities",
        *,
        seed: int = 0,
        cache_size: int = 8,
    ) -> None:
        super().__init__(patch_shape, samples_per_subject, seed=seed, cache_size=cache_size)
        self.probability_category = probability_category

    def _build(self, reader: Any, subject_index: int) -> tuple[np.ndarray, np.ndarray]:
        weights = np.asarray(reader.read_box(self.probability_category, subject_index, None))[..., 0].ravel()
        if np.any(weights < 0) or not np.any(weights > 0):
            raise InvalidInputError(
                f"probability map '{self.probability_category}' of subject {subject_index} must be non-negative "
                f"with a positive sum (min {weights.min()}, sum {weights.sum()})"
            )
        positive = np.flatnonzero(weights)
        index_dtype = np.int32 if weights.size < 2**31 else np.int64
        return positive.astype(index_dtype), np.cumsum(weights[positive], dtype=np.float64)

    def locate(self, reader: Any, subject_index: int, shape: Sequence[int], local_index: int) -> IndexExpression:
        if reader is None:
            raise InvalidInputError("WeightedPatchSampling needs the dataset; use it through PymiaDatasource")
        positive, cumulative = self._table(reader, subject_index)
        rng = self._rng(subject_index, local_index)
        position = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
        centre = np.unravel_index(int(positive[min(position, len(positive) - 1)]), tuple(shape))
        return _box(_start_around(centre, shape, self.patch_shape), self.patch_shape)


class LabelBalancedPatchSampling(_TableSampling):
    """Patches centred on voxels of label classes drawn with given ratios (nnU-Net/MONAI style).

    Parameters
    ----------
    patch_shape : tuple of int
        Patch size per spatial axis (z, y, x).
    samples_per_subject : int, default 1
        Patches per subject and epoch.
    label_ratios : mapping of int to float or sequence of float, optional
        Relative frequency of each class as patch centre (a sequence gives classes 0, 1, 2, ...).
        Classes absent in a subject are skipped and the others renormalised. Default: all classes
        present, equally often.
    label_category : str, default 'labels'
        The category holding the label map (first entry used).
    seed : int, default 0
        Seed.
    cache_size : int, default 8
        Subjects whose class-location tables each process keeps (4 bytes per voxel).
    """

    def __init__(
        self,
        patch_shape: Sequence[int],
        samples_per_subject: int = 1,
        label_ratios: Mapping[int, float] | Sequence[float] | None = None,
        label_category: str = defs.KEY_LABELS,
        *,
        seed: int = 0,
        cache_size: int = 8,
    ) -> None:
        super().__init__(patch_shape, samples_per_subject, seed=seed, cache_size=cache_size)
        if label_ratios is not None and not isinstance(label_ratios, Mapping):
            label_ratios = dict(enumerate(label_ratios))
        if label_ratios is not None and (
            any(float(r) < 0 for r in label_ratios.values()) or not any(float(r) > 0 for r in label_ratios.values())
        ):
            raise InvalidInputError(f"label_ratios must be non-negative with a positive sum, got {label_ratios}")
        self.label_ratios = None if label_ratios is None else {int(k): float(v) for k, v in label_ratios.items()}
        self.label_category = label_category

    def _build(self, reader: Any, subject_index: int) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
        labels = np.asarray(reader.read_box(self.label_category, subject_index, None))[..., 0].ravel()
        order = np.argsort(labels, kind="stable").astype(np.int32 if labels.size < 2**31 else np.int64)
        classes, starts = np.unique(labels[order], return_index=True)
        groups = np.split(order, starts[1:])  # flat voxel indices per class, one int64 array in total
        if self.label_ratios is None:
            ratios = np.ones(len(classes))
        else:
            ratios = np.array([self.label_ratios.get(int(c), 0.0) for c in classes])
        if not np.any(ratios > 0):
            raise InvalidInputError(
                f"subject {subject_index} has none of the classes in label_ratios {self.label_ratios} "
                f"(classes present: {classes.tolist()})"
            )
        return classes, groups, np.cumsum(ratios / ratios.sum())

    def locate(self, reader: Any, subject_index: int, shape: Sequence[int], local_index: int) -> IndexExpression:
        if reader is None:
            raise InvalidInputError("LabelBalancedPatchSampling needs the dataset; use it through PymiaDatasource")
        _, groups, cumulative = self._table(reader, subject_index)
        rng = self._rng(subject_index, local_index)
        choice = min(int(np.searchsorted(cumulative, rng.random(), side="right")), len(groups) - 1)
        voxels = groups[choice]
        flat = int(voxels[int(rng.integers(len(voxels)))])
        centre = np.unravel_index(flat, tuple(shape))
        return _box(_start_around(centre, shape, self.patch_shape), self.patch_shape)
