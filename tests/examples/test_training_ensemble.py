"""Hierarchical voting and probability stacking of ``examples/training/ensemble.py``.

Expected labels are worked out by hand from Mlynarski et al. (2019), §2.4: P_tumour = (v1+v2+v3)/n > 0.4,
P_core = (v1+v3)/(v1+v2+v3) > 0.3, P_enh = v3/(v1+v3) > 0.4.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "training"))
import ensemble


def _vote(*labels: int) -> int:
    return int(ensemble.hierarchical_vote([np.array([label]) for label in labels])[0])


def test_hand_worked_votes() -> None:
    assert _vote(0, 0, 0, 1, 2) == 0  # tumour 2/5 = 0.4, not above 0.4
    assert _vote(0, 0, 1, 2, 2) == 1  # tumour 3/5; core 1/3 > 0.3; enhancing 0/1 → non-enhancing core
    assert _vote(0, 2, 2, 2, 3) == 2  # tumour 4/5; core 1/4 = 0.25 ≤ 0.3 → oedema
    assert _vote(3, 3, 1, 2, 0) == 3  # tumour 4/5; core 3/4; enhancing 2/3 > 0.4
    assert _vote(1, 1, 3, 2, 2) == 1  # tumour 5/5; core 3/5; enhancing 1/3 ≤ 0.4 → non-enhancing


def test_boundary_is_strictly_greater() -> None:
    # tumour exactly 0.4 with n = 5 is not tumour; core exactly 0.3 with 10 tumour votes is not core
    assert _vote(0, 0, 0, 2, 2) == 0
    assert _vote(*([1] * 3 + [2] * 7)) == 2
    assert _vote(*([1] * 4 + [2] * 6)) == 1
    # enhancing exactly 0.4 (2 of 5 core votes) stays non-enhancing
    assert _vote(*([3] * 2 + [1] * 3)) == 1


def test_unanimous_votes_are_kept_on_a_volume(rng: np.random.Generator) -> None:
    labels = rng.integers(0, 4, (4, 5, 6))
    assert np.array_equal(ensemble.hierarchical_vote([labels, labels, labels]), labels)


def test_labels_outside_0_to_3_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"0\.\.3"):
        ensemble.hierarchical_vote([np.array([4])])


def test_stack_probabilities_weighted_mean() -> None:
    a = np.array([[1.0, 0.0]])
    b = np.array([[0.0, 1.0]])
    assert np.allclose(ensemble.stack_probabilities([a, b], [3, 1]), [[0.75, 0.25]])
    with pytest.raises(ValueError, match="weights"):
        ensemble.stack_probabilities([a, b], [1.0])
