"""Assembly: put network outputs for samples back together into whole subjects.

:class:`SubjectAssembler` handles slices, patches (with mean, Gaussian or crop blending), slabs and
volumes; :class:`PlaneSubjectAssembler` fuses 2.5-D outputs from several planes.
"""

from pymia.data.assembly.accumulator import VolumeAccumulator
from pymia.data.assembly.blending import BLENDING_MODES, blending_profiles, blending_window
from pymia.data.assembly.interaction import ApplyTransformInteractionFn, AssembleInteractionFn
from pymia.data.assembly.plane_assembler import PlaneSubjectAssembler, majority_vote_merge_fn, mean_merge_fn
from pymia.data.assembly.subject_assembler import Assembler, Subject2dAssembler, SubjectAssembler, numpy_zeros

__all__ = [
    "BLENDING_MODES",
    "ApplyTransformInteractionFn",
    "AssembleInteractionFn",
    "Assembler",
    "PlaneSubjectAssembler",
    "Subject2dAssembler",
    "SubjectAssembler",
    "VolumeAccumulator",
    "blending_profiles",
    "blending_window",
    "majority_vote_merge_fn",
    "mean_merge_fn",
    "numpy_zeros",
]
