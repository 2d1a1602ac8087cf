"""A transform that applies any function array → array to some entries."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from pymia.data.transformation.transform import LoopEntryTransform
from pymia.errors import InvalidInputError

__all__ = ["LambdaTransform"]


class LambdaTransform(LoopEntryTransform):
    """Apply ``lambda_fn(array) -> array`` to each entry (or each slice along ``loop_axis``).

    Parameters
    ----------
    lambda_fn : callable
        Function of one numpy array returning the new array.
    loop_axis : int, optional
        Apply the function to each slice along this axis.
    entries : sequence of str, default ('images',)
        The sample keys to transform.

    Examples
    --------
    >>> import numpy as np
    >>> LambdaTransform(np.sqrt)({"images": np.array([4.0, 9.0])})["images"].tolist()
    [2.0, 3.0]
    """

    def __init__(
        self,
        lambda_fn: Callable[[np.ndarray], np.ndarray],
        loop_axis: int | None = None,
        entries: Sequence[str] = ("images",),
    ) -> None:
        if not callable(lambda_fn):
            raise InvalidInputError(f"LambdaTransform needs a callable, got {lambda_fn!r}")
        super().__init__(loop_axis, entries)
        self.lambda_fn = lambda_fn

    def transform_entry(self, array: np.ndarray, entry: str, loop_index: int | None = None) -> np.ndarray:
        return np.asarray(self.lambda_fn(array))
