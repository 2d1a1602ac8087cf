"""All extractors under their pymia 0.3.4 path (``pymia.data.extraction.extractor``)."""

from pymia.data.extraction.data_extractor import (
    DataExtractor,
    PadDataExtractor,
    RandomDataExtractor,
    SelectiveDataExtractor,
)
from pymia.data.extraction.extractor_base import ComposeExtractor, Extractor
from pymia.data.extraction.filesystem_extractor import FilesystemDataExtractor
from pymia.data.extraction.metadata_extractor import (
    FilesExtractor,
    ImagePropertiesExtractor,
    ImagePropertyShapeExtractor,
    IndexingExtractor,
    NamesExtractor,
    SubjectExtractor,
)

__all__ = [
    "ComposeExtractor",
    "DataExtractor",
    "Extractor",
    "FilesExtractor",
    "FilesystemDataExtractor",
    "ImagePropertiesExtractor",
    "ImagePropertyShapeExtractor",
    "IndexingExtractor",
    "NamesExtractor",
    "PadDataExtractor",
    "RandomDataExtractor",
    "SelectiveDataExtractor",
    "SubjectExtractor",
]
