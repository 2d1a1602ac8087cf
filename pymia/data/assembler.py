"""The assemblers under their pymia 0.3.4 path (``pymia.data.assembler``); see :mod:`pymia.data.assembly`."""

from pymia.data.assembly import (
    ApplyTransformInteractionFn,
    AssembleInteractionFn,
    Assembler,
    PlaneSubjectAssembler,
    Subject2dAssembler,
    SubjectAssembler,
    mean_merge_fn,
    numpy_zeros,
)

__all__ = [
    "ApplyTransformInteractionFn",
    "AssembleInteractionFn",
    "Assembler",
    "PlaneSubjectAssembler",
    "Subject2dAssembler",
    "SubjectAssembler",
    "mean_merge_fn",
    "numpy_zeros",
]
