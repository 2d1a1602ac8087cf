"""Label transforms: change label values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from pymia.data.transformation.transform import LoopEntryTransform

__all__ = ["Relabel"]


class Relabel(LoopEntryTransform):
    """Replace label values, all at once.

    Parameters
    ----------
    label_changes : mapping of int to int
        **New label → old label**, as in pymia 0.3.4 (``{1: 4}`` turns every 4 into 1). Values that
        are not listed are kept. The changes apply simultaneously: ``{2: 1, 3: 2}`` turns 1 into 2
        and 2 into 3 (pymia 0.3.4 applied them one after the other, so 1 ended as 3).
    entries : sequence of str, default ('labels',)
        The sample keys to relabel.

    Examples
    --------
    >>> import numpy as np
    >>> Relabel({2: 1, 3: 2})({"labels": np.array([0, 1, 2])})["labels"].tolist()
    [0, 2, 3]
    """

    def __init__(self, label_changes: Mapping[int, int], entries: Sequence[str] = ("labels",)) -> None:
        super().__init__(None, entries)
        self.label_changes = dict(label_changes)

    def transform_entry(self, array: np.ndarray, entry: str, loop_index: int | None = None) -> np.ndarray:
        out = array.copy()
        for new, old in self.label_changes.items():
            # masks are taken from the input so that chained changes do not apply twice
            out[array == old] = new
        return out
