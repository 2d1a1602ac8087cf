"""Checks that samples can be stacked into a batch, with errors that name the samples and the fix.

Both framework adapters stack the arrays of one key over a batch; this module finds the samples
whose shape or dtype differ before the framework fails with a message that names neither.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pymia.errors import InvalidInputError

__all__ = ["BatchError", "check_array_dtype", "check_batchable", "describe_samples"]

_NUMERIC_KINDS = "biufc"
_RAGGED_FIX = (
    "samples of one batch must have equal shapes: pad or crop them to a common size (a PadDataExtractor, "
    "the SizeCorrection transform, a patch grid with border padding), or use batch_size=1"
)


class BatchError(InvalidInputError):
    """Samples of one batch cannot be stacked: their shapes or dtypes differ, or a dtype is not numeric."""


def describe_samples(sample_indices: Sequence[int] | None, positions: Sequence[int]) -> list[str]:
    """Name samples for messages: ``'sample 12'`` when the sample numbers are known, else ``'batch item 3'``."""
    if sample_indices is None:
        return [f"batch item {p}" for p in positions]
    return [f"sample {sample_indices[p]}" for p in positions]


def check_array_dtype(key: str, array: np.ndarray, name: str) -> None:
    """Raise :class:`BatchError` if ``array`` (entry ``key`` of sample ``name``) is not numeric."""
    if array.dtype.kind not in _NUMERIC_KINDS:
        raise BatchError(
            f"entry {key!r} of {name} has dtype {array.dtype} (shape {array.shape}), which cannot become a "
            "tensor; extract numeric arrays (cast in a transform, e.g. images to float32 and labels to int64), "
            "or leave non-numeric entries out of the extractor"
        )


def check_batchable(key: str, arrays: Sequence[np.ndarray], sample_indices: Sequence[int] | None = None) -> None:
    """Raise :class:`BatchError` unless all ``arrays`` are numeric with one shape and one dtype.

    Parameters
    ----------
    key : str
        The sample entry (e.g. ``'images'``), used in the message.
    arrays : sequence of numpy.ndarray
        The entry of each sample of the batch.
    sample_indices : sequence of int, optional
        The sample number of each array (the ``'sample_index'`` entries), used in the message.
    """
    if not arrays:
        return
    names = describe_samples(sample_indices, range(len(arrays)))
    first = arrays[0]
    for array, name in zip(arrays, names):
        check_array_dtype(key, array, name)
    for array, name in zip(arrays[1:], names[1:]):
        if array.shape != first.shape:
            raise BatchError(
                f"cannot batch entry {key!r}: {names[0]} has shape {first.shape} but {name} has shape "
                f"{array.shape}; {_RAGGED_FIX}"
            )
        if array.dtype != first.dtype:
            raise BatchError(
                f"cannot batch entry {key!r}: {names[0]} has dtype {first.dtype} but {name} has dtype "
                f"{array.dtype}; cast the entry to one dtype in a transform"
            )
