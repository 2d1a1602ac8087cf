"""The check both framework adapters make of what they are given to read from."""

from __future__ import annotations

import os
from typing import Any

from pymia.errors import InvalidInputError

__all__ = ["check_datasource"]


def check_datasource(datasource: Any) -> None:
    """Raise :class:`~pymia.errors.InvalidInputError` unless ``datasource`` can be read sample by sample.

    A path (the most common slip: the dataset file instead of a datasource over it) and objects without
    ``__len__`` and ``__getitem__`` are refused, with the call that builds a datasource.
    """
    opening = "PymiaDatasource(path, SliceIndexing(), DataExtractor(categories=('images', 'labels')))"
    if isinstance(datasource, (str, bytes, os.PathLike)):
        raise InvalidInputError(
            f"expected a datasource, got the path {os.fsdecode(datasource)!r}; open the dataset first, e.g. "
            f"{opening} (pymia.data.extraction)"
        )
    if not (hasattr(datasource, "__len__") and hasattr(datasource, "__getitem__")):
        raise InvalidInputError(
            f"expected a datasource (a PymiaDatasource, or any object with __len__ and __getitem__ returning "
            f"sample dictionaries), got {type(datasource).__name__}; build one with {opening}"
        )
