"""Extraction: cut a pymia HDF5 dataset into samples (slices, slabs, 2.5-D, patches, volumes).

:class:`PymiaDatasource` is the entry point; an :class:`IndexingStrategy` decides where samples
sit, an :class:`Extractor` what they contain, and selection strategies filter them. All pymia 0.3.4
names are available here.
"""

from pymia.data.extraction.data_extractor import (
    DataExtractor,
    PadDataExtractor,
    RandomDataExtractor,
    SelectiveDataExtractor,
)
from pymia.data.extraction.datasource import PymiaDatasource
from pymia.data.extraction.extractor_base import ComposeExtractor, Extractor
from pymia.data.extraction.filesystem_extractor import FilesystemDataExtractor
from pymia.data.extraction.indexing import (
    EmptyIndexing,
    IndexingStrategy,
    PatchWiseIndexing,
    SlabIndexing,
    SliceIndexing,
    TriPlanarIndexing,
    VoxelWiseIndexing,
)
from pymia.data.extraction.metadata_extractor import (
    FilesExtractor,
    ImagePropertiesExtractor,
    ImagePropertyShapeExtractor,
    IndexingExtractor,
    NamesExtractor,
    SubjectExtractor,
)
from pymia.data.extraction.patch_sampling import (
    LabelBalancedPatchSampling,
    UniformPatchSampling,
    WeightedPatchSampling,
)
from pymia.data.extraction.sample_expression import OrthogonalPlanesExpression, SlabExpression
from pymia.data.extraction.sample_index import SampleIndex
from pymia.data.extraction.selection import (
    ComposeSelection,
    NonBlackSelection,
    NonConstantSelection,
    PercentileSelection,
    SelectionStrategy,
    SubjectSelection,
    WithForegroundSelection,
    select_indices,
)
from pymia.data.storage.hdf5_reader import Hdf5Reader, Reader, get_reader

__all__ = [
    "ComposeExtractor",
    "ComposeSelection",
    "DataExtractor",
    "EmptyIndexing",
    "Extractor",
    "FilesExtractor",
    "FilesystemDataExtractor",
    "Hdf5Reader",
    "ImagePropertiesExtractor",
    "ImagePropertyShapeExtractor",
    "IndexingExtractor",
    "IndexingStrategy",
    "LabelBalancedPatchSampling",
    "NamesExtractor",
    "NonBlackSelection",
    "NonConstantSelection",
    "OrthogonalPlanesExpression",
    "PadDataExtractor",
    "PatchWiseIndexing",
    "PercentileSelection",
    "PymiaDatasource",
    "RandomDataExtractor",
    "Reader",
    "SampleIndex",
    "SelectionStrategy",
    "SelectiveDataExtractor",
    "SlabExpression",
    "SlabIndexing",
    "SliceIndexing",
    "SubjectExtractor",
    "SubjectSelection",
    "TriPlanarIndexing",
    "UniformPatchSampling",
    "VoxelWiseIndexing",
    "WeightedPatchSampling",
    "WithForegroundSelection",
    "get_reader",
    "select_indices",
]
