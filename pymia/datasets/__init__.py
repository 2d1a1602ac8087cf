"""Example data for pymia, generated locally: no download at run time.

:func:`generate_brain_dataset` simulates subjects from the MNI152 2009a brain template shipped in
the nilearn wheel (the ``examples`` extra); :func:`generate_predictions` adds imperfect
segmentations of them for evaluation demos. :mod:`pymia.datasets.layout` describes the folder layout,
which the test phantoms of :mod:`pymia.testing` share. The generators are imported on first use, so
importing this package stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["generate_brain_dataset", "generate_predictions", "write_references"]


def __getattr__(name: str) -> Any:
    if name == "generate_brain_dataset":
        from pymia.datasets.brain import generate_brain_dataset

        return generate_brain_dataset
    if name in ("generate_predictions", "write_references"):
        from pymia.datasets import predictions

        return getattr(predictions, name)
    raise AttributeError(f"module 'pymia.datasets' has no attribute {name!r}")
