"""What a pipeline's elements look like: entry names, shapes and dtypes, read from one sample.

``tf.numpy_function`` loses static shapes, so the pipeline restores them (``ensure_shape``) from a
:class:`SampleSignature` inferred from the first sample, and checks every later sample against it.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pymia.data.backends.batching import BatchError, check_array_dtype
from pymia.errors import InvalidInputError

__all__ = ["SampleSignature", "infer_signature", "sample_arrays"]

_STRING = np.dtype(object)  # entries holding text travel as object arrays of bytes (tf.string)


@dataclass(frozen=True)
class SampleSignature:
    """Shapes and dtypes of the entries of one sample.

    Attributes
    ----------
    keys : tuple of str
        Entry names, in output order.
    shapes : tuple of tuple of int
        Shape of each entry in one sample, e.g. (Y, X, C) for an axial slice; ``()`` for numbers
        and text.
    dtypes : tuple of numpy.dtype
        NumPy dtype of each entry; ``object`` for text (``tf.string``).
    """

    keys: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    dtypes: tuple[np.dtype, ...]

    def describe(self) -> str:
        """A one-line description, e.g. ``images (10, 12, 2) float32, sample_index () int64``."""
        return ", ".join(
            f"{k} {s} {'string' if d == _STRING else d}" for k, s, d in zip(self.keys, self.shapes, self.dtypes)
        )


def _as_array(value: Any) -> np.ndarray | None:
    """The value as an array if it can travel through ``tf.numpy_function``, else ``None``."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biufc":
        return value
    if isinstance(value, (str, bytes)):
        return np.array(value.encode() if isinstance(value, str) else value, dtype=object)
    if isinstance(value, (numbers.Number, np.generic)) and not isinstance(value, complex):
        array = np.asarray(value)
        return array.astype(np.int64) if array.dtype.kind in "iu" else array
    return None


def infer_signature(sample: dict[str, Any], keys: Sequence[str] | None = None) -> SampleSignature:
    """Infer the signature of a pipeline from one sample.

    Parameters
    ----------
    sample : dict
        A sample dictionary of a datasource (after any transform).
    keys : sequence of str, optional
        Entries to keep. Default: every entry that is a numeric array, a number or a text; others
        (e.g. :class:`~pymia.data.indexexpression.IndexExpression`, property dictionaries) are left
        out; use ``'sample_index'`` and ``datasource.sample_location`` to find where a sample sits.

    Returns
    -------
    SampleSignature
        Integers (e.g. ``'sample_index'``) become int64 scalars, text becomes ``tf.string``.
    """
    chosen = list(sample) if keys is None else list(keys)
    names, shapes, dtypes = [], [], []
    for key in chosen:
        if key not in sample:
            raise InvalidInputError(f"entry {key!r} is not in the sample; it has {sorted(sample)}")
        value = sample[key]
        array = _as_array(value)
        if array is None:
            if keys is not None:
                if isinstance(value, np.ndarray):
                    check_array_dtype(key, value, "the first sample")
                raise InvalidInputError(
                    f"entry {key!r} holds {type(value).__name__}, which cannot become a tensor; keep numeric "
                    "arrays, numbers and text only"
                )
            continue
        names.append(key)
        shapes.append(tuple(int(s) for s in array.shape))
        dtypes.append(array.dtype)
    if not names:
        raise InvalidInputError(f"the sample has no entry that can become a tensor: {sorted(sample)}")
    return SampleSignature(tuple(names), tuple(shapes), tuple(dtypes))


def sample_arrays(sample: dict[str, Any], signature: SampleSignature, name: str) -> list[np.ndarray]:
    """Return the entries of ``sample`` as arrays in signature order; raise :class:`BatchError` if one differs.

    ``name`` names the sample in messages (e.g. ``'sample 12'``).
    """
    arrays = []
    for key, shape, dtype in zip(signature.keys, signature.shapes, signature.dtypes):
        value = sample.get(key)
        array = _as_array(value)
        if array is None:
            raise BatchError(
                f"entry {key!r} of {name} is {type(value).__name__}, but the pipeline expects {shape} {dtype} "
                f"(inferred from the first sample)"
            )
        if array.shape != shape:
            raise BatchError(
                f"entry {key!r} of {name} has shape {array.shape}, but the pipeline's shape (from the first "
                f"sample) is {shape}; samples must have equal shapes: pad or crop them to a common size (a "
                "PadDataExtractor, the SizeCorrection transform, a patch grid with border padding)"
            )
        if array.dtype != dtype:
            raise BatchError(
                f"entry {key!r} of {name} has dtype {array.dtype}, but the pipeline's dtype (from the first "
                f"sample) is {dtype}; cast the entry to one dtype in a transform"
            )
        arrays.append(array)
    return arrays
