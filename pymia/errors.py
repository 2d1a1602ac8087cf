"""The exceptions and warnings pymia raises, under one base class each.

Every pymia error says what was wrong, the offending value and what to do. Catch
:class:`PymiaError` to handle all of them; each also derives from the matching built-in
(``ValueError``, ``FileNotFoundError``, ...) so existing ``except`` clauses keep working.
"""

from __future__ import annotations

__all__ = [
    "DatasetFormatError",
    "GeometryMismatchError",
    "InvalidInputError",
    "MissingDependencyError",
    "MissingFileError",
    "NotComputableMetricWarning",
    "OutputExistsError",
    "PymiaError",
    "PymiaWarning",
]


class PymiaError(Exception):
    """Base class of every error pymia raises on purpose."""


class InvalidInputError(PymiaError, ValueError):
    """An argument or input value is wrong (shape, dtype, range, option name, ...)."""


class MissingFileError(PymiaError, FileNotFoundError):
    """An input file or folder does not exist or cannot be read."""


class OutputExistsError(PymiaError, FileExistsError):
    """An output file exists already and overwriting was not asked for."""


class GeometryMismatchError(InvalidInputError):
    """Images that must share a grid differ in shape, spacing, origin or direction."""


class DatasetFormatError(PymiaError, ValueError):
    """An HDF5 file is not a pymia dataset, or lacks an entry that the operation needs."""


class MissingDependencyError(PymiaError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class PymiaWarning(UserWarning):
    """Base class of every warning pymia emits."""


class NotComputableMetricWarning(PymiaWarning):
    """A metric is undefined for the given inputs (e.g. an empty mask); its value is ``nan``."""
