"""The public names of extraction and assembly: every pymia 0.3.4 name at its 0.3.4 module path."""

from __future__ import annotations

import importlib

import pytest

import pymia.data.assembly
import pymia.data.extraction

# From pymia 0.3.4's source tree (research note pymia-0.3.4.md §1, §4, §5): module → names.
NAMES_0_3_4 = {
    "pymia.data.extraction": [
        "PymiaDatasource", "Reader", "Hdf5Reader", "get_reader", "IndexingStrategy", "EmptyIndexing",
        "SliceIndexing", "VoxelWiseIndexing", "PatchWiseIndexing", "Extractor", "DataExtractor",
        "SelectiveDataExtractor", "RandomDataExtractor", "PadDataExtractor", "FilesystemDataExtractor",
        "SubjectExtractor", "NamesExtractor", "FilesExtractor", "IndexingExtractor", "ImagePropertiesExtractor",
        "ImagePropertyShapeExtractor", "ComposeExtractor", "SelectionStrategy", "NonConstantSelection",
        "NonBlackSelection", "PercentileSelection", "WithForegroundSelection", "SubjectSelection",
        "ComposeSelection", "select_indices",
    ],
    "pymia.data.extraction.datasource": ["PymiaDatasource"],
    "pymia.data.extraction.reader": ["Reader", "Hdf5Reader", "get_reader", "reader_registry"],
    "pymia.data.extraction.indexing": [
        "IndexingStrategy", "EmptyIndexing", "SliceIndexing", "VoxelWiseIndexing", "PatchWiseIndexing",
    ],
    "pymia.data.extraction.extractor": [
        "Extractor", "DataExtractor", "SelectiveDataExtractor", "RandomDataExtractor", "PadDataExtractor",
        "FilesystemDataExtractor", "SubjectExtractor", "NamesExtractor", "FilesExtractor", "IndexingExtractor",
        "ImagePropertiesExtractor", "ImagePropertyShapeExtractor", "ComposeExtractor",
    ],
    "pymia.data.extraction.selection": [
        "SelectionStrategy", "NonConstantSelection", "NonBlackSelection", "PercentileSelection",
        "WithForegroundSelection", "SubjectSelection", "ComposeSelection", "select_indices",
    ],
    "pymia.data.assembler": [
        "Assembler", "SubjectAssembler", "PlaneSubjectAssembler", "Subject2dAssembler", "AssembleInteractionFn",
        "ApplyTransformInteractionFn", "numpy_zeros", "mean_merge_fn",
    ],
}  # fmt: skip


@pytest.mark.parametrize("module", sorted(NAMES_0_3_4))
def test_0_3_4_names_are_importable_from_their_0_3_4_paths(module: str) -> None:
    imported = importlib.import_module(module)
    missing = [name for name in NAMES_0_3_4[module] if not hasattr(imported, name)]
    assert not missing


def test_package_exports_are_frozen() -> None:
    """Adding or removing a public name must be a deliberate change of this list (and of the docs)."""
    new = [
        "LabelBalancedPatchSampling", "OrthogonalPlanesExpression", "SampleIndex", "SlabExpression",
        "SlabIndexing", "TriPlanarIndexing", "UniformPatchSampling", "WeightedPatchSampling",
    ]  # fmt: skip
    assert sorted(pymia.data.extraction.__all__) == sorted(NAMES_0_3_4["pymia.data.extraction"] + new)
    assert sorted(pymia.data.assembly.__all__) == sorted(
        NAMES_0_3_4["pymia.data.assembler"] + ["BLENDING_MODES", "VolumeAccumulator", "blending_profiles",
                                               "blending_window", "majority_vote_merge_fn"]
    )  # fmt: skip
    for name in pymia.data.extraction.__all__:
        assert getattr(pymia.data.extraction, name).__doc__, name


def test_import_pymia_data_extraction_does_not_import_frameworks() -> None:
    import subprocess
    import sys

    code = (
        "import sys, pymia.data.extraction, pymia.data.assembler; "
        "print('torch' in sys.modules, 'tensorflow' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]
