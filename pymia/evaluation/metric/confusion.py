"""The one confusion matrix every overlap, classical and information metric is computed from.

:class:`ConfusionMatrix` counts true/false positives/negatives of two binary masks in three passes
over the voxels; the metrics then only do arithmetic on four integers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ConfusionMatrix"]


@dataclass(frozen=True)
class ConfusionMatrix:
    """Voxel counts of a binary segmentation against its reference.

    Attributes
    ----------
    tp, fp, tn, fn : int
        True positives (in both), false positives (prediction only), true negatives (in neither) and
        false negatives (reference only).

    Examples
    --------
    >>> import numpy as np
    >>> ConfusionMatrix.from_masks(np.array([1, 1, 0, 0], bool), np.array([1, 0, 1, 0], bool))
    ConfusionMatrix(tp=1, fp=1, tn=1, fn=1)
    """

    tp: int
    fp: int
    tn: int
    fn: int

    @classmethod
    def from_masks(cls, reference: np.ndarray, prediction: np.ndarray) -> ConfusionMatrix:
        """Count the four cases of two boolean arrays of the same shape."""
        tp = int(np.count_nonzero(np.logical_and(reference, prediction)))
        positives = int(np.count_nonzero(prediction))
        reference_positives = int(np.count_nonzero(reference))
        fp = positives - tp
        fn = reference_positives - tp
        return cls(tp=tp, fp=fp, tn=int(reference.size) - tp - fp - fn, fn=fn)

    @property
    def n(self) -> int:
        """Number of voxels."""
        return self.tp + self.fp + self.tn + self.fn

    @property
    def reference_positives(self) -> int:
        """Voxels in the reference (tp + fn)."""
        return self.tp + self.fn

    @property
    def prediction_positives(self) -> int:
        """Voxels in the prediction (tp + fp)."""
        return self.tp + self.fp
