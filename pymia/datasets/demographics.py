"""Simulated non-image values (age, sex, score) of example subjects.

The score behaves like a cognitive test score (0–30, higher is better) that drops slowly with age,
so that demos relating image features to non-image data have a signal to find.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Demographics", "sample_demographics"]

MINIMUM_AGE = 20
MAXIMUM_AGE = 85


@dataclass(frozen=True)
class Demographics:
    """Non-image values of one subject: age in years, sex (``"F"`` or ``"M"``), score in [0, 30]."""

    age: int
    sex: str
    score: float


def sample_demographics(rng: np.random.Generator) -> Demographics:
    """Draw age, sex and score for one subject from ``rng``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Consumes exactly three draws, so a caller can rely on the stream position afterwards.

    Returns
    -------
    Demographics
        Age uniform in [20, 85] years; sex ``"F"`` or ``"M"`` with equal probability; score
        ``29 − 0.1·max(age − 50, 0) + N(0, 1)``, clipped to [0, 30] and rounded to 0.1.
    """
    age = int(rng.integers(MINIMUM_AGE, MAXIMUM_AGE + 1))
    sex = "F" if rng.random() < 0.5 else "M"
    score = 29.0 - 0.1 * max(age - 50, 0) + float(rng.normal(0.0, 1.0))
    return Demographics(age=age, sex=sex, score=round(float(np.clip(score, 0.0, 30.0)), 1))
