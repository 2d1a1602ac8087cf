"""The reader classes under their pymia 0.3.4 path (``pymia.data.extraction.reader``)."""

from pymia.data.storage.hdf5_reader import Hdf5Reader, Reader, get_reader, reader_registry

__all__ = ["Hdf5Reader", "Reader", "get_reader", "reader_registry"]
