"""Data handling: raw files → HDF5 dataset (creation) → samples (extraction) → volumes (assembly).

Sub-packages: :mod:`pymia.data.creation`, :mod:`pymia.data.storage`, :mod:`pymia.data.extraction`,
:mod:`pymia.data.assembly` (re-exported by :mod:`pymia.data.assembler`) and
:mod:`pymia.data.backends` (PyTorch and TensorFlow adapters, imported lazily).
"""
