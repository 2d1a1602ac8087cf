"""The HDF5 storage seam: how pymia datasets are written (layout options) and read (file manager)."""

from pymia.data.storage.file_manager import Hdf5FileManager
from pymia.data.storage.hdf5_reader import Hdf5Reader, Reader, get_reader, read_region
from pymia.data.storage.hdf5_writer import COMPRESSIONS, DEFAULT_LAYOUT, Hdf5Layout, create_array_dataset

__all__ = [
    "COMPRESSIONS",
    "DEFAULT_LAYOUT",
    "Hdf5FileManager",
    "Hdf5Layout",
    "Hdf5Reader",
    "Reader",
    "create_array_dataset",
    "get_reader",
    "read_region",
]
