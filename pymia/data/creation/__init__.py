"""Dataset creation: raw subject files (images, labels, tables) → one pymia HDF5 dataset.

The :class:`Traverser` walks :class:`~pymia.data.subjectfile.SubjectFile` objects, loads each entry
(:mod:`~pymia.data.creation.fileloader`), and hands every subject to callbacks
(:mod:`~pymia.data.creation.callback`) that write through a :class:`Writer`. :func:`create_dataset`
does all of it in one call; :func:`subjects_from_folder` and :func:`subjects_from_manifest` build the
subject files from a folder tree or a manifest CSV.
"""

from pymia.data.creation.callback import (
    Callback,
    ComposeCallback,
    MonitoringCallback,
    WriteDataCallback,
    WriteEssentialCallback,
    WriteFilesCallback,
    WriteHashesCallback,
    WriteImageInformationCallback,
    WriteNamesCallback,
    get_default_callbacks,
)
from pymia.data.creation.discovery import subjects_from_folder, subjects_from_manifest
from pymia.data.creation.fileloader import Load, LoadDefault
from pymia.data.creation.pipeline import create_dataset
from pymia.data.creation.tabular import CsvValue
from pymia.data.creation.traverser import Traverser, default_concat
from pymia.data.creation.verification import verify_source_files
from pymia.data.creation.writer import Hdf5Writer, Writer, get_writer

__all__ = [
    "Callback",
    "ComposeCallback",
    "CsvValue",
    "Hdf5Writer",
    "Load",
    "LoadDefault",
    "MonitoringCallback",
    "Traverser",
    "WriteDataCallback",
    "WriteEssentialCallback",
    "WriteFilesCallback",
    "WriteHashesCallback",
    "WriteImageInformationCallback",
    "WriteNamesCallback",
    "Writer",
    "create_dataset",
    "default_concat",
    "get_default_callbacks",
    "get_writer",
    "subjects_from_folder",
    "subjects_from_manifest",
    "verify_source_files",
]
