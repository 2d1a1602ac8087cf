"""Transforms of sample dictionaries, used at dataset creation and at extraction.

Every transform is a callable ``sample: dict -> dict`` (:class:`Transform`); most change the arrays of
the keys listed in ``entries=`` and can work slice by slice along ``loop_axis``. Random augmentations
live in :mod:`pymia.data.augmentation` and build on the same base class.
"""

from pymia.data.transformation.intensity import ClipPercentile, IntensityNormalization, IntensityRescale
from pymia.data.transformation.label import Relabel
from pymia.data.transformation.lambda_transform import LambdaTransform
from pymia.data.transformation.mask import Mask
from pymia.data.transformation.shape import Permute, Reshape, SizeCorrection, Squeeze, UnSqueeze
from pymia.data.transformation.transform import (
    ComposeTransform,
    LoopEntryTransform,
    Transform,
    check_and_return,
)

__all__ = [
    "ClipPercentile",
    "ComposeTransform",
    "IntensityNormalization",
    "IntensityRescale",
    "LambdaTransform",
    "LoopEntryTransform",
    "Mask",
    "Permute",
    "Relabel",
    "Reshape",
    "SizeCorrection",
    "Squeeze",
    "Transform",
    "UnSqueeze",
    "check_and_return",
]


def __getattr__(name: str):
    # pymia 0.3.4 had RandomCrop here; it now lives with the other random transforms. Imported on
    # use because pymia.data.augmentation builds on this package.
    if name == "RandomCrop":
        from pymia.data.augmentation import RandomCrop

        return RandomCrop
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
