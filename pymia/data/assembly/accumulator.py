"""A weighted accumulator for one volume: sum of weighted values per voxel, divided by the sum of weights.

Samples are added at boxes that may reach outside the volume (padded patches); only the inside part
is accumulated. The result is the weighted mean per voxel, so overlapping samples are blended and
the order in which samples arrive does not matter.

Only the values are accumulated sample by sample. The weight sum depends on nothing but the boxes,
so it is computed when the result is asked for: for a full grid of equal boxes with a separable
window (mean, Gaussian) it is the outer product of one sum per axis, otherwise the windows are
added box by box. The values are added with torch's kernels when the process has imported torch
(they add into a strided region of the volume about twice as fast as NumPy), otherwise with NumPy.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from pymia.data.assembly.blending import blending_profiles, blending_window
from pymia.data.indexexpression import IndexExpression
from pymia.errors import InvalidInputError

__all__ = ["KERNELS", "VolumeAccumulator", "block_rows"]

#: Kernels that add samples into the volume: ``'auto'`` (torch when already imported, else NumPy).
KERNELS = ("auto", "numpy", "torch")

Box = tuple[tuple[int, int], ...]

_PARALLEL_MIN_SIZE = 2**18
# Weighted samples are multiplied and added block by block along their first axis, so the weighted
# block stays in the L2 cache between the multiply and the add: about 256 KiB of float32 per block.
_BLOCK_VALUES = 2**16
_POOLS: dict[tuple[int, int], concurrent.futures.ThreadPoolExecutor] = {}


def _pool(threads: int) -> concurrent.futures.ThreadPoolExecutor:
    """A thread pool per process (threads do not survive a fork) and size."""
    key = (os.getpid(), threads)
    if key not in _POOLS:
        _POOLS[key] = concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="pymia-assembly")
    return _POOLS[key]


def block_rows(shape: Sequence[int]) -> int:
    """Rows (first-axis entries) of an array of ``shape`` per cache block: ≥ 1, about 65,536 values."""
    row_values = int(np.prod(shape[1:], dtype=np.int64)) if len(shape) > 1 else 1
    return max(1, _BLOCK_VALUES // max(row_values, 1))


def _numpy_accumulate(
    view: np.ndarray, part: np.ndarray, expanded: np.ndarray | None, scratch: np.ndarray | None
) -> None:
    """``view += part * expanded`` (``expanded`` None: 1), block by block through ``scratch``."""
    if expanded is None or scratch is None:
        np.add(view, part, out=view, casting="unsafe")
        return
    step = scratch.shape[0]
    for start in range(0, part.shape[0], step):
        stop = min(start + step, part.shape[0])
        block = scratch[: stop - start]
        np.multiply(part[start:stop], expanded[start:stop], out=block, casting="unsafe")
        target = view[start:stop]
        np.add(target, block, out=target)


def _torch_module() -> Any:
    """torch when the process has imported it (never imported here: it takes seconds), else None."""
    torch = sys.modules.get("torch")
    return torch if torch is not None and hasattr(torch, "from_numpy") else None


def _torch_can_take(*arrays: np.ndarray) -> bool:
    """Whether torch.from_numpy wraps these arrays without a copy or a warning."""
    dtype = arrays[0].dtype
    return all(
        a.dtype == dtype and a.dtype.isnative and a.flags.writeable and min(a.strides, default=0) >= 0 for a in arrays
    ) and dtype in (np.float32, np.float64, np.float16)


def _grid_rows(factors: Sequence[np.ndarray]) -> Callable[[int, int], np.ndarray]:
    """Rows ``[start, stop)`` (float32) of the outer product of per-axis weight sums, on demand."""
    rest = np.ones((), dtype=np.float64)
    for factor in factors[1:]:
        rest = np.multiply.outer(rest, factor)
    rest32 = rest.astype(np.float32)
    first32 = np.asarray(factors[0], dtype=np.float32)
    return lambda start, stop: np.multiply.outer(first32[start:stop], rest32)


class VolumeAccumulator:
    """Accumulate samples of one volume of spatial ``shape`` with ``channels`` channels.

    Parameters
    ----------
    shape : sequence of int
        Spatial shape (numpy order).
    channels : int
        Channels of the values.
    dtype : numpy dtype, default float32
        Dtype of the value buffer and of the result.
    mode : {'overwrite', 'mean', 'gaussian', 'crop'}, default 'mean'
        Blending of overlapping samples (see :func:`~pymia.data.assembly.blending.blending_window`).
    sigma_scale : float, default 0.125
        Gaussian sigma as a fraction of the sample size.
    crop_border : int or sequence of int, default 0
        Border per axis discarded in ``'crop'`` mode.
    buffer : numpy.ndarray, optional
        A preallocated zero buffer of shape ``(*shape, channels)`` to accumulate into.
    threads : int, default 1
        Threads that accumulate large samples (≥ 2**18 values) slab by slab with NumPy kernels
        (torch's kernels use torch's own threads).
    kernel : {'auto', 'numpy', 'torch'}, default 'auto'
        What adds samples into the volume. ``'auto'``: torch if the process has already imported it
        and the arrays suit it (same float dtype, writeable, positive strides), else NumPy.
    """

    def __init__(
        self,
        shape: Sequence[int],
        channels: int,
        dtype: Any = np.float32,
        mode: str = "mean",
        *,
        sigma_scale: float = 0.125,
        crop_border: int | Sequence[int] = 0,
        buffer: np.ndarray | None = None,
        threads: int = 1,
        kernel: str = "auto",
    ) -> None:
        if kernel not in KERNELS:
            raise InvalidInputError(f"kernel must be one of {KERNELS}, got '{kernel}'")
        self.shape = tuple(int(s) for s in shape)
        self.threads = max(1, int(threads))
        self.channels = int(channels)
        self.mode = mode
        self.sigma_scale = sigma_scale
        self.crop_border = crop_border
        self.kernel = kernel
        self._torch = None
        if kernel == "torch":
            try:
                import torch
            except ImportError as error:  # pragma: no cover - depends on the environment
                raise ImportError("kernel='torch' needs PyTorch: pip install 'pymia[torch]'") from error
            self._torch = torch
        blending_window((1,) * len(self.shape), mode)  # validates the mode early
        self.dtype = np.dtype(dtype) if buffer is None else buffer.dtype
        if buffer is None:
            # Integer results (label maps) are accumulated in float32 and rounded at the end.
            working = self.dtype if np.issubdtype(self.dtype, np.floating) else np.dtype(np.float32)
            buffer = np.zeros((*self.shape, self.channels), dtype=working)
        elif buffer.shape != (*self.shape, self.channels):
            raise InvalidInputError(f"buffer of shape {buffer.shape} does not match {(*self.shape, self.channels)}")
        self.values = buffer
        self._boxes: list[Box] = []
        self._weights: np.ndarray | None = None
        self._expanded: dict[tuple[int, ...], np.ndarray] = {}
        self._scratch: dict[tuple[int, ...], np.ndarray] = {}
        self._float = np.issubdtype(self.dtype, np.floating)

    # -- adding samples ---------------------------------------------------------------------------
    def add(self, index_expr: IndexExpression, values: np.ndarray) -> None:
        """Accumulate ``values`` (box shape incl. squeezed axes as length 1, plus channels) at ``index_expr``."""
        box = index_expr.box(self.shape)
        box_shape = tuple(stop - start for start, stop in box)
        if values.shape != (*box_shape, self.channels):
            raise InvalidInputError(
                f"values of shape {values.shape} do not fit the region {box} (shape {box_shape}) "
                f"with {self.channels} channels"
            )
        source, target = index_expr.clip(self.shape)
        if any(s.stop <= s.start for s in source):
            return  # completely outside the volume
        self._boxes.append(box)
        self._weights = None
        view = self.values[source]
        part = values[target]
        if self.mode == "overwrite":
            view[...] = part
            return
        expanded = None if self.mode == "mean" else self._expanded_window(box_shape)[target]
        torch = self._torch if self.kernel == "torch" else _torch_module() if self.kernel == "auto" else None
        if torch is not None and _torch_can_take(view, part, *(() if expanded is None else (expanded,))):
            self._torch_accumulate(torch, view, part, expanded)
            return
        rows = view.shape[0]
        if self.threads > 1 and part.size >= _PARALLEL_MIN_SIZE and rows >= self.threads:
            # NumPy releases the GIL in ufuncs: slabs along the first axis are accumulated in parallel,
            # each thread with a scratch block of its own.
            bounds = np.linspace(0, rows, self.threads + 1).astype(int)
            slabs = [
                (view[lo:hi], part[lo:hi], None if expanded is None else expanded[lo:hi], self._scratch_block(part, t))
                for t, (lo, hi) in enumerate(itertools.pairwise(bounds))
            ]
            list(_pool(self.threads).map(lambda slab: _numpy_accumulate(*slab), slabs))
        else:
            _numpy_accumulate(view, part, expanded, self._scratch_block(part, 0))

    @staticmethod
    def _torch_accumulate(torch: Any, view: np.ndarray, part: np.ndarray, expanded: np.ndarray | None) -> None:
        target = torch.from_numpy(view)
        if expanded is None:
            target.add_(torch.from_numpy(part))
        else:
            target.addcmul_(torch.from_numpy(part), torch.from_numpy(expanded))

    def _expanded_window(self, box_shape: tuple[int, ...]) -> np.ndarray:
        """The window repeated over channels, contiguous (a fast multiply), in the buffer's dtype."""
        expanded = self._expanded.get(box_shape)
        if expanded is None:
            window = self._window(box_shape)
            expanded = np.empty((*box_shape, self.channels), dtype=self.values.dtype)
            expanded[...] = window[..., None]
            self._expanded[box_shape] = expanded
        return expanded

    def _window(self, box_shape: tuple[int, ...]) -> np.ndarray:
        return blending_window(box_shape, self.mode, sigma_scale=self.sigma_scale, crop_border=self.crop_border)

    def _scratch_block(self, part: np.ndarray, thread: int) -> np.ndarray | None:
        """A reusable block of rows of ``part``'s shape for one thread (no allocation per sample)."""
        if self.mode == "mean":
            return None
        rows = block_rows(part.shape)
        key = (thread, rows, *part.shape[1:])
        scratch = self._scratch.get(key)
        if scratch is None:
            scratch = self._scratch[key] = np.empty((rows, *part.shape[1:]), dtype=self.values.dtype)
        return scratch

    # -- weights ----------------------------------------------------------------------------------
    def _grid_factors(self) -> list[np.ndarray] | None:
        """Per-axis weight sums whose outer product is the weight map, if the boxes allow it.

        That is the case when every box has the same shape, the window is separable and the boxes
        are exactly the Cartesian product of their starts per axis (a full patch grid).
        """
        if self.mode == "overwrite" or not self._boxes:
            return None
        starts = np.array([[start for start, _ in box] for box in self._boxes], dtype=np.int64)
        stops = np.array([[stop for _, stop in box] for box in self._boxes], dtype=np.int64)
        sizes = stops - starts
        if not (sizes == sizes[0]).all():
            return None
        box_shape = tuple(int(s) for s in sizes[0])
        profiles = blending_profiles(box_shape, self.mode, sigma_scale=self.sigma_scale)
        if profiles is None:
            return None
        per_axis = [np.unique(starts[:, axis]) for axis in range(len(self.shape))]
        if len(np.unique(starts, axis=0)) != len(starts) or len(starts) != int(np.prod([len(u) for u in per_axis])):
            return None
        factors = []
        for size, profile, axis_starts in zip(self.shape, profiles, per_axis):
            factor = np.zeros(size, dtype=np.float64)
            for start in axis_starts.tolist():
                lo, hi = max(start, 0), min(start + len(profile), size)
                if hi > lo:
                    factor[lo:hi] += profile[lo - start : hi - start]
            factors.append(factor)
        return factors

    def _weight_rows(self) -> Callable[[int, int], np.ndarray]:
        """A function giving the float32 weight sums of rows ``[start, stop)`` of the volume.

        A full grid's rows come from its per-axis sums on demand, without storing a weight map.
        """
        if self._weights is None and self.shape:
            factors = self._grid_factors()
            if factors is not None:
                return _grid_rows(factors)
            self._weights = self._box_weights()
        weights = self.coverage
        return lambda start, stop: weights[start:stop]

    @property
    def coverage(self) -> np.ndarray:
        """Sum of weights per voxel, float32 of the spatial shape (0 where no sample contributed)."""
        if self._weights is None:
            factors = self._grid_factors() if self.shape else None
            self._weights = self._box_weights() if factors is None else _grid_rows(factors)(0, self.shape[0])
        return self._weights

    def _box_weights(self) -> np.ndarray:
        """The weight map as the sum of the boxes' windows (any set of boxes)."""
        weights = np.zeros(self.shape, dtype=np.float32)
        for box in self._boxes:
            source = tuple(slice(max(start, 0), min(stop, size)) for (start, stop), size in zip(box, self.shape))
            target = tuple(slice(s.start - start, s.stop - start) for s, (start, _) in zip(source, box))
            if self.mode == "overwrite":
                weights[source] = 1.0
            else:
                box_shape = tuple(stop - start for start, stop in box)
                weights[source] += self._window(box_shape)[target]
        return weights

    # -- result -----------------------------------------------------------------------------------
    def result(self) -> np.ndarray:
        """The weighted mean per voxel, in the buffer's dtype (uncovered voxels are 0).

        Normalises the value buffer in place and returns it: call once.
        """
        if self.mode == "overwrite":
            return self.values if self._float else self.values.astype(self.dtype)
        if not self.shape:  # a single point
            total = float(self.coverage)
            mean = self.values / total if total > 0 else np.zeros_like(self.values)
            return mean if self._float else np.rint(mean).astype(self.dtype)
        weight_rows = self._weight_rows()
        output = self.values if self._float else np.empty(self.values.shape, dtype=self.dtype)
        rows = max(1, block_rows(self.shape))
        for start in range(0, self.shape[0], rows):
            stop = min(start + rows, self.shape[0])
            # Inverse weights of a block of rows that stays in cache; uncovered voxels get factor 0.
            inverse = weight_rows(start, stop).astype(np.float32, copy=True)
            np.divide(1.0, inverse, out=inverse, where=inverse > 0)
            block = self.values[start:stop]
            if self._float:
                for channel in range(self.channels):  # faster than a broadcast over the short channel axis
                    values = block[..., channel]
                    np.multiply(values, inverse, out=values, casting="unsafe")
            else:
                output[start:stop] = np.rint(block * inverse[..., None])
        return output
