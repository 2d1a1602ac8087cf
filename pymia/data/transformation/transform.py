"""The transform contract: a callable that takes a sample dictionary and returns it modified.

Transforms run at creation time (on whole subjects, before writing) and at extraction time (on
samples). :class:`Transform` is the base of every transform (also the random augmentations in
:mod:`pymia.data.augmentation`); :class:`ComposeTransform` chains several; :class:`LoopEntryTransform`
is the base of transforms that change the arrays of some entries, optionally one slice at a time.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from pymia.errors import InvalidInputError

__all__ = [
    "ComposeTransform",
    "LoopEntryTransform",
    "Transform",
    "check_and_return",
    "floating",
    "normalize_axis",
    "present_entries",
    "raise_error_if_entry_not_extracted",
]

#: When ``True`` (default), a transform whose entry is missing from the sample raises
#: :class:`~pymia.errors.InvalidInputError`; when ``False`` the entry is skipped silently (the
#: module-level switch of pymia 0.3.4, kept for compatibility).
raise_error_if_entry_not_extracted = True


class Transform(abc.ABC):
    """Base class of all transforms: ``sample = transform(sample)``.

    A transform receives the sample dictionary (keys from :mod:`pymia.data.definition`, e.g.
    ``'images'`` of shape (z, y, x, c) or a slice (y, x, c)), modifies some entries and returns the
    dictionary. It may modify the dictionary in place; callers use the returned one.
    """

    @abc.abstractmethod
    def __call__(self, sample: dict) -> dict:
        """Apply the transform to ``sample`` and return the (possibly same) dictionary."""

    def __repr__(self) -> str:
        # The repr is stored in the dataset (root attribute ``transform``) to describe how it was made.
        fields = ", ".join(f"{name}={value!r}" for name, value in vars(self).items() if not name.startswith("_"))
        return f"{type(self).__name__}({fields})"


class ComposeTransform(Transform):
    """Apply several transforms one after the other.

    Parameters
    ----------
    transforms : iterable of Transform or callable
        Applied in the given order; each receives the dictionary returned by the previous one.

    Examples
    --------
    >>> import numpy as np
    >>> from pymia.data.transformation import ComposeTransform, IntensityRescale, Squeeze
    >>> t = ComposeTransform([IntensityRescale(0, 1), Squeeze(entries=("images",))])
    >>> t({"images": np.array([[2.0], [4.0]])})["images"].tolist()
    [0.0, 1.0]
    """

    def __init__(self, transforms: Iterable[Callable[[dict], dict]]) -> None:
        self.transforms = list(transforms)
        for transform in self.transforms:
            if not callable(transform):
                raise InvalidInputError(
                    f"ComposeTransform got {transform!r}, which is not callable; pass Transform objects "
                    "(or functions dict -> dict)"
                )

    def __call__(self, sample: dict) -> dict:
        for transform in self.transforms:
            sample = transform(sample)
        return sample


def check_and_return(obj: Any, type_: type | tuple[type, ...]) -> Any:
    """Return ``obj`` if it is an instance of ``type_``, else raise :class:`~pymia.errors.InvalidInputError`."""
    if not isinstance(obj, type_):
        raise InvalidInputError(f"expected an object of type {type_}, got {type(obj).__name__}: {obj!r}")
    return obj


def floating(array: np.ndarray) -> np.ndarray:
    """Return ``array`` as float: float64 stays float64, every other type becomes float32."""
    if array.dtype == np.float64:
        return array
    return array.astype(np.float32, copy=False)


class LoopEntryTransform(Transform):
    """Base class of transforms that change the arrays of some entries, optionally slice by slice.

    Parameters
    ----------
    loop_axis : int, optional
        If given, :meth:`transform_entry` is called for each index along this axis (e.g. the channel
        axis ``-1`` to normalize each channel on its own) and the results are stacked back on the same
        axis. If ``None`` (default) it is called once with the whole array.
    entries : sequence of str
        The keys of the sample to transform.
    """

    def __init__(self, loop_axis: int | None = None, entries: Sequence[str] = ("images",)) -> None:
        if isinstance(entries, str):
            entries = (entries,)
        self.loop_axis = loop_axis
        self.entries = tuple(entries)

    @abc.abstractmethod
    def transform_entry(self, array: np.ndarray, entry: str, loop_index: int | None = None) -> np.ndarray:
        """Return the transformed ``array`` of ``entry`` (one slice along ``loop_axis`` if it is set)."""

    def __call__(self, sample: dict) -> dict:
        for entry in present_entries(self, sample, self.entries):
            array = np.asarray(sample[entry])
            if self.loop_axis is None:
                sample[entry] = self.transform_entry(array, entry)
                continue
            axis = normalize_axis(self.loop_axis, array.ndim, entry)
            # views along the loop axis (no copies); results go into one preallocated C-contiguous array
            source = np.moveaxis(array, axis, 0)
            out = target = None
            for i in range(source.shape[0]):
                part = np.asarray(self.transform_entry(source[i], entry, i))
                if out is None:
                    position = min(axis, part.ndim)  # slices may lose axes (e.g. a reduction)
                    shape = (*part.shape[:position], source.shape[0], *part.shape[position:])
                    out = np.empty(shape, dtype=part.dtype)
                    target = np.moveaxis(out, position, 0)
                elif part.shape != target.shape[1:]:
                    raise InvalidInputError(
                        f"{type(self).__name__} returned slices of shapes {target.shape[1:]} and {part.shape} for "
                        f"entry '{entry}'; with loop_axis every slice must keep one shape"
                    )
                target[i] = part
            sample[entry] = array if out is None else out  # out is None: zero-length loop axis
        return sample


def present_entries(transform: Transform, sample: dict, entries: Sequence[str]) -> list[str]:
    """Return the ``entries`` present in ``sample``; raise for missing ones unless switched off.

    The switch is the module attribute :data:`raise_error_if_entry_not_extracted`.
    """
    missing = [entry for entry in entries if entry not in sample]
    if missing and raise_error_if_entry_not_extracted:
        raise InvalidInputError(
            f"{type(transform).__name__} needs the entries {missing} but the sample has only {sorted(sample)}; "
            "extract them (e.g. DataExtractor(categories=...)) or remove them from `entries=`"
        )
    return [entry for entry in entries if entry in sample]


def normalize_axis(axis: int, ndim: int, entry: str) -> int:
    """Turn a possibly negative ``axis`` into an index in ``range(ndim)``; raise if out of range."""
    if not -ndim <= axis < ndim:
        raise InvalidInputError(f"axis {axis} is out of range for entry '{entry}' with {ndim} dimensions")
    return axis % ndim
