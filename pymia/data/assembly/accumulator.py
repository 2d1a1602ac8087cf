"""A weighted accumulator for one volume: sum of weighted values and sum of weights per voxel.

Samples are added at boxes that may reach outside the volume (padded patches); only the inside part
is accumulated. The result is the weighted mean per voxel, so overlapping samples are blended and
the order in which samples arrive does not matter.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from pymia.data.assembly.blending import blending_window
from pymia.data.indexexpression import IndexExpression
from pymia.errors import InvalidInputError

__all__ = ["VolumeAccumulator"]

_PARALLEL_MIN_SIZE = 2**18
_POOLS: dict[tuple[int, int], concurrent.futures.ThreadPoolExecutor] = {}


def _pool(threads: int) -> concurrent.futures.ThreadPoolExecutor:
    """A thread pool per process (threads do not survive a fork) and size."""
    key = (os.getpid(), threads)
    if key not in _POOLS:
        _POOLS[key] = concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="pymia-assembly")
    return _POOLS[key]


def _accumulate(
    view: np.ndarray,
    part: np.ndarray,
    weights: np.ndarray,
    window: np.ndarray | None,
    expanded: np.ndarray | None,
    scratch: np.ndarray | None,
) -> None:
    """``view += part * window`` and ``weights += window`` (window 1 when ``window`` is None)."""
    if window is None:
        np.add(view, part, out=view, casting="unsafe")
        weights += 1.0
        return
    np.multiply(part, expanded, out=scratch, casting="unsafe")
    np.add(view, scratch, out=view)
    weights += window


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
        Threads that accumulate large samples (≥ 2**18 values) slab by slab.
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
    ) -> None:
        self.shape = tuple(int(s) for s in shape)
        self.threads = max(1, int(threads))
        self.channels = int(channels)
        self.mode = mode
        self.sigma_scale = sigma_scale
        self.crop_border = crop_border
        blending_window((1,) * len(self.shape), mode)  # validates the mode early
        self.dtype = np.dtype(dtype) if buffer is None else buffer.dtype
        if buffer is None:
            # Integer results (label maps) are accumulated in float32 and rounded at the end.
            working = self.dtype if np.issubdtype(self.dtype, np.floating) else np.dtype(np.float32)
            buffer = np.zeros((*self.shape, self.channels), dtype=working)
        elif buffer.shape != (*self.shape, self.channels):
            raise InvalidInputError(f"buffer of shape {buffer.shape} does not match {(*self.shape, self.channels)}")
        self.values = buffer
        self.weights = np.zeros(self.shape, dtype=np.float32)
        self._expanded: dict[tuple[int, ...], np.ndarray] = {}
        self._scratch: dict[tuple[int, ...], np.ndarray] = {}
        self._float = np.issubdtype(self.dtype, np.floating)

    def _window(self, box_shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """The window and the window repeated over channels (contiguous: a fast multiply)."""
        window = blending_window(box_shape, self.mode, sigma_scale=self.sigma_scale, crop_border=self.crop_border)
        expanded = self._expanded.get(box_shape)
        if expanded is None:
            expanded = np.ascontiguousarray(np.broadcast_to(window[..., None], (*box_shape, self.channels)))
            self._expanded[box_shape] = expanded
        return window, expanded

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
        view = self.values[source]
        if self.mode == "overwrite":
            view[...] = values[target]
            self.weights[source] = 1.0
            return
        part = values[target]
        weights = self.weights[source]
        if self.mode == "mean":
            operands: tuple[np.ndarray | None, ...] = (view, part, weights, None, None, None)
        else:
            window, expanded = self._window(box_shape)
            # A scratch buffer reused across samples avoids allocating (and page-faulting) megabytes per patch.
            scratch = self._scratch.get(part.shape)
            if scratch is None:
                scratch = self._scratch[part.shape] = np.empty(part.shape, dtype=view.dtype)
            operands = (view, part, weights, window[target], expanded[target], scratch)
        rows = view.shape[0]
        if self.threads > 1 and part.size >= _PARALLEL_MIN_SIZE and rows >= self.threads:
            # NumPy releases the GIL in ufuncs: slabs along the first axis are accumulated in parallel.
            bounds = np.linspace(0, rows, self.threads + 1).astype(int)
            slabs = [tuple(None if o is None else o[lo:hi] for o in operands) for lo, hi in itertools.pairwise(bounds)]
            list(_pool(self.threads).map(lambda slab: _accumulate(*slab), slabs))
        else:
            _accumulate(*operands)

    @property
    def coverage(self) -> np.ndarray:
        """Sum of weights per voxel (0 where no sample contributed)."""
        return self.weights

    def result(self) -> np.ndarray:
        """The weighted mean per voxel, in the buffer's dtype (uncovered voxels are 0).

        Normalises in place and replaces :attr:`coverage` by its inverse: call once.
        """
        if self.mode == "overwrite":
            return self.values if self._float else self.values.astype(self.dtype)
        # The weights are not needed afterwards: invert them in place (uncovered voxels keep weight 0).
        inverse = self.weights
        np.divide(1.0, inverse, out=inverse, where=inverse > 0)
        if self._float:
            for c in range(self.channels):
                channel = self.values[..., c]
                np.multiply(channel, inverse, out=channel, casting="unsafe")
            return self.values
        return np.rint(self.values * inverse[..., None]).astype(self.dtype)
