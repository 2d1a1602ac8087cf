"""Hooks called for every sample before it is assembled (pymia 0.3.4's interaction functions)."""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any

import numpy as np

import pymia.data.definition as defs
from pymia.data.indexexpression import IndexExpression

__all__ = ["ApplyTransformInteractionFn", "AssembleInteractionFn"]


class AssembleInteractionFn(abc.ABC):
    """A hook ``fn(key, data, index_expr) -> (data, index_expr)`` applied to each sample's output."""

    @abc.abstractmethod
    def __call__(
        self, key: str, data: np.ndarray, index_expr: IndexExpression, **kwargs: Any
    ) -> tuple[np.ndarray, IndexExpression]:
        """Return the (possibly changed) output and region of one sample."""


class ApplyTransformInteractionFn(AssembleInteractionFn):
    """Apply a sample transform to each output before assembly (e.g. to undo a crop or a permute).

    Parameters
    ----------
    transform : callable
        ``transform(sample) -> sample`` on a dictionary ``{key: data, 'index_expr': index_expr}``.
        Keys it removes are left unchanged.
    """

    def __init__(self, transform: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.transform = transform

    def __call__(
        self, key: str, data: np.ndarray, index_expr: IndexExpression, **kwargs: Any
    ) -> tuple[np.ndarray, IndexExpression]:
        sample = self.transform({key: data, defs.KEY_INDEX_EXPR: index_expr})
        return sample.get(key, data), sample.get(defs.KEY_INDEX_EXPR, index_expr)
