"""Combining several segmentations: the cascade paper's hierarchical voting and probability stacking.

Example code, not part of :mod:`pymia`. Label maps and probabilities are numpy arrays in pymia's
axis order (z, y, x); probabilities carry classes on the last axis.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def hierarchical_vote(label_maps: Sequence[np.ndarray], *, thresholds: tuple[float, float, float] = (0.4, 0.3, 0.4)
                      ) -> np.ndarray:
    """Voxelwise hierarchical voting of Mlynarski et al. (2019) over labels 0–3.

    With v_k the number of models voting label k: a voxel is *tumour* (labels 1–3) if
    (v1 + v2 + v3) / n > T_tumour; a tumour voxel is *core* (1 or 3) if (v1 + v3) / (v1 + v2 + v3) > T_core,
    else 2; a core voxel is 3 if v3 / (v1 + v3) > T_enhancing, else 1. "Above" is read as strictly
    greater (a ratio equal to the threshold does not pass). The paper uses (0.4, 0.3, 0.4) for
    (tumour, core, enhancing) with BraTS labels (0 background, 1 non-enhancing core, 2 oedema,
    3 enhancing core); for other label sets the same rule applies to the nested regions
    {1, 2, 3} ⊃ {1, 3} ⊃ {3}.

    Parameters
    ----------
    label_maps : sequence of numpy.ndarray
        One integer label map per model, all the same shape, values in 0–3.
    thresholds : tuple of float
        (T_tumour, T_core, T_enhancing).

    Returns
    -------
    numpy.ndarray
        uint8 label map of the same shape.
    """
    stack = np.stack([np.asarray(m) for m in label_maps])
    if stack.size and (stack.min() < 0 or stack.max() > 3):
        raise ValueError(f"labels must lie in 0..3, got range {stack.min()}..{stack.max()}")
    votes = [(stack == k).sum(axis=0).astype(np.float64) for k in range(4)]
    n_models = stack.shape[0]
    tumour_votes = votes[1] + votes[2] + votes[3]
    core_votes = votes[1] + votes[3]
    with np.errstate(invalid="ignore", divide="ignore"):
        is_tumour = tumour_votes / n_models > thresholds[0]
        is_core = np.where(tumour_votes > 0, core_votes / tumour_votes, 0.0) > thresholds[1]
        is_enhancing = np.where(core_votes > 0, votes[3] / core_votes, 0.0) > thresholds[2]
    result = np.zeros(stack.shape[1:], dtype=np.uint8)
    result[is_tumour] = 2
    result[is_tumour & is_core] = 1
    result[is_tumour & is_core & is_enhancing] = 3
    return result


def stack_probabilities(probabilities: Sequence[np.ndarray], weights: Sequence[float] | None = None) -> np.ndarray:
    """Weighted mean of class probabilities ``(..., C)`` of several models (e.g. 2-D and 3-D, CT recipe)."""
    if not probabilities:
        raise ValueError("no probabilities to stack")
    weights_array = np.ones(len(probabilities)) if weights is None else np.asarray(weights, dtype=np.float64)
    if len(weights_array) != len(probabilities):
        raise ValueError(f"{len(weights_array)} weights for {len(probabilities)} probability maps")
    total = sum(w * np.asarray(p, dtype=np.float32) for w, p in zip(weights_array, probabilities))
    return (total / weights_array.sum()).astype(np.float32)
