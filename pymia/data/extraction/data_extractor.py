"""Extractors of voxel (and non-image) data: all entries, selected entries, a random entry, padded.

The region read is the sample's index expression; categories that are not on the image grid (e.g.
``numerical``) are read whole. Reads go through :func:`~pymia.data.extraction.sample_expression.read_sample`,
so slices, patches, slabs and tri-planar samples are handled the same way everywhere.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import pymia.data.definition as defs
from pymia.data.extraction.extractor_base import Extractor
from pymia.data.extraction.sample_expression import read_sample
from pymia.data.indexexpression import IndexExpression
from pymia.errors import InvalidInputError

__all__ = ["DataExtractor", "PadDataExtractor", "RandomDataExtractor", "SelectiveDataExtractor", "read_category"]


def read_category(reader: Any, category: str, params: dict[str, Any], ignore_indexing: bool) -> np.ndarray:
    """Read one category for the sample described by ``params`` (the region, or whole if not on the grid)."""
    subject_index = params[defs.KEY_SUBJECT_INDEX]
    index_expr = None if ignore_indexing else params.get(defs.KEY_INDEX_EXPR)
    if index_expr is None or not reader.is_image_category(category):
        return reader.read_box(category, subject_index, None)
    if type(index_expr) is IndexExpression and "pad_fn" not in params and "fill_value" not in params:
        return reader.read_box(category, subject_index, index_expr)  # the common case, kept lean
    read_box = functools.partial(
        reader.read_box,
        category,
        subject_index,
        fill_value=params.get("fill_value", 0),
        pad_fn=params.get("pad_fn"),
    )
    if type(index_expr) is IndexExpression:
        return read_box(index_expr)
    return read_sample(read_box, index_expr, reader.data(category, subject_index).shape)


def _as_tuple(value: str | Sequence[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return (value,) if isinstance(value, str) else tuple(value)


class DataExtractor(Extractor):
    """Extract the sample's region of one or more categories.

    Parameters
    ----------
    categories : sequence of str, default ('images',)
        Categories to read (keys ``data/<category>`` of the dataset), e.g. ``('images', 'labels')``.
        Image categories give ``(region..., C)`` arrays in the stored dtype; non-image categories
        (``numerical``: float64 (1, n); strings) are read whole.
    ignore_indexing : bool, default False
        Read whole volumes regardless of the sample's region.
    """

    def __init__(self, categories: Sequence[str] = (defs.KEY_IMAGES,), ignore_indexing: bool = False) -> None:
        self.categories = _as_tuple(categories) or ()
        self.ignore_indexing = ignore_indexing

    def extract(self, reader: Any, params: dict[str, Any], extracted: dict[str, Any]) -> None:
        for category in self.categories:
            extracted[category] = read_category(reader, category, params, self.ignore_indexing)


def _selection_indices(reader: Any, category: str, selection: tuple[str, ...] | None) -> tuple[list[int], list[str]]:
    names = reader.names(category)
    if selection is None:
        return list(range(len(names))), names
    missing = [s for s in selection if s not in names]
    if missing:
        raise InvalidInputError(f"entries {missing} are not in category '{category}' (its entries: {names})")
    return [names.index(s) for s in selection], list(selection)


class SelectiveDataExtractor(Extractor):
    """Extract only some entries (channels) of a category, in the order asked for.

    Parameters
    ----------
    selection : str or sequence of str, optional
        Entry names (from ``meta/names/<category>_names``). ``None`` selects all entries.
    category : str, default 'labels'
        The category.

    Notes
    -----
    Adds ``<category>_names_selected`` with the selected names. Unlike pymia 0.3.4 it does not need
    a :class:`~pymia.data.extraction.NamesExtractor` to run first.
    """

    def __init__(self, selection: str | Sequence[str] | None = None, category: str = defs.KEY_LABELS) -> None:
        self.selection = _as_tuple(selection)
        self.category = category

    def extract(self, reader: Any, params: dict[str, Any], extracted: dict[str, Any]) -> None:
        indices, names = _selection_indices(reader, self.category, self.selection)
        data = read_category(reader, self.category, params, False)
        extracted[self.category] = np.take(data, indices, axis=-1)
        extracted[defs.KEY_PLACEHOLDER_NAMES_SELECTED.format(self.category)] = names


class RandomDataExtractor(Extractor):
    """Extract one randomly chosen entry of a category (e.g. one of several raters' labels).

    Parameters
    ----------
    selection : str or sequence of str, optional
        Entry names to choose from; ``None`` chooses among all entries.
    category : str, default 'labels'
        The category.
    seed : int, optional
        Seed of the generator (``None``: unpredictable).

    Notes
    -----
    The result keeps a channel axis of length 1; ``<category>_names_selected`` names the entry.
    """

    def __init__(
        self,
        selection: str | Sequence[str] | None = None,
        category: str = defs.KEY_LABELS,
        *,
        seed: int | None = None,
    ) -> None:
        self.selection = _as_tuple(selection)
        self.category = category
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    def extract(self, reader: Any, params: dict[str, Any], extracted: dict[str, Any]) -> None:
        indices, names = _selection_indices(reader, self.category, self.selection)
        choice = int(self._rng.integers(len(indices)))
        data = read_category(reader, self.category, params, False)
        extracted[self.category] = np.take(data, [indices[choice]], axis=-1)
        extracted[defs.KEY_PLACEHOLDER_NAMES_SELECTED.format(self.category)] = [names[choice]]


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


class PadDataExtractor(Extractor):
    """Enlarge the region read by another extractor (context for valid convolutions, slabs).

    Parameters
    ----------
    padding : sequence of int or sequence of (int, int)
        Per spatial axis either one size (both sides) or a ``(before, after)`` pair, in voxels.
    extractor : Extractor
        The extractor whose reads are enlarged (needs ``categories`` or ``category``).
    pad_fn : callable, optional
        ``pad_fn(inside, pad_width) -> padded`` for voxels outside the volume. Default: zeros.
    pad_mode : str, default 'constant'
        Alternative to ``pad_fn``: a ``numpy.pad`` mode (constant, edge, reflect, symmetric, wrap).

    Notes
    -----
    As in pymia 0.3.4, squeezed axes become axes of extent ``1 + before + after``: a padded axial
    slice of a (Z, Y, X, C) volume with padding ``((2, 2), (0, 0), (0, 0))`` is (5, Y, X, C). The
    inside part is read straight into the padded buffer. Slab and tri-planar samples cannot be
    padded this way.
    """

    def __init__(
        self,
        padding: Sequence[int] | Sequence[tuple[int, int]],
        extractor: Extractor,
        pad_fn: Callable[[np.ndarray, tuple[tuple[int, int], ...]], np.ndarray] | None = None,
        *,
        pad_mode: str = "constant",
    ) -> None:
        if not (hasattr(extractor, "categories") or hasattr(extractor, "category")):
            raise InvalidInputError(
                f"PadDataExtractor needs an extractor with 'categories' or 'category', got {type(extractor).__name__}"
            )
        pairs = []
        for p in padding:
            if isinstance(p, (int, np.integer)):
                pairs.append((int(p), int(p)))
            else:
                before, after = p  # type: ignore[misc]
                pairs.append((int(before), int(after)))
        if any(b < 0 or a < 0 for b, a in pairs):
            raise InvalidInputError(f"padding must not be negative, got {list(padding)}")
        if pad_mode not in _PAD_MODES:
            raise InvalidInputError(f"pad_mode must be one of {_PAD_MODES}, got '{pad_mode}'")
        self.padding = tuple(pairs)
        self.extractor = extractor
        self.pad_mode = pad_mode
        self.pad_fn = pad_fn
        if pad_fn is None and pad_mode != "constant":
            self.pad_fn = functools.partial(np.pad, mode=pad_mode)

    def extract(self, reader: Any, params: dict[str, Any], extracted: dict[str, Any]) -> None:
        index_expr = params.get(defs.KEY_INDEX_EXPR)
        if index_expr is not None and type(index_expr) is not IndexExpression:
            raise InvalidInputError(
                f"PadDataExtractor pads box regions only, got {index_expr!r}; slabs and tri-planar samples "
                "bring their own context"
            )
        category = getattr(self.extractor, "categories", None) or (self.extractor.category,)  # type: ignore[attr-defined]
        volume = reader.data(category[0], params[defs.KEY_SUBJECT_INDEX]).shape
        n_axes = len(self.padding)
        if len(volume) - 1 != n_axes:
            raise InvalidInputError(
                f"padding has {n_axes} axes but the volume has {len(volume) - 1} spatial axes (shape {volume[:-1]})"
            )
        expr = index_expr if index_expr is not None else IndexExpression()
        box = expr.box(volume[:n_axes])
        padded = tuple(slice(start - before, stop + after) for (start, stop), (before, after) in zip(box, self.padding))
        padded_expr = IndexExpression.__new__(IndexExpression)
        padded_expr.expression = padded
        padded_params = dict(params)
        padded_params[defs.KEY_INDEX_EXPR] = padded_expr
        if self.pad_fn is not None:
            padded_params["pad_fn"] = self.pad_fn
        self.extractor.extract(reader, padded_params, extracted)
