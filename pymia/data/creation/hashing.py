"""SHA-256 fingerprints of raw input files, stored in the dataset for reproducibility checks.

A file's hash is over its bytes; a DICOM folder's hash is over the sorted file names and their bytes;
a table value's hash is over ``column=value``. A subject's hash combines the hashes of all its entries.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
from collections.abc import Iterable
from typing import Any

from pymia.data.creation.tabular import CsvValue

__all__ = ["hash_entry", "hash_file", "hash_subject"]

_BLOCK = 1 << 20


def hash_file(path: str | os.PathLike, digest: Any = None) -> str:
    """Return the SHA-256 hex digest of a file's bytes."""
    digest = digest if digest is not None else hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def hash_entry(file: Any) -> str:
    """Return the SHA-256 hex digest of an entry: a file, a folder (DICOM series) or a :class:`CsvValue`."""
    if isinstance(file, CsvValue):
        return hashlib.sha256(f"{file.column}={file.value}".encode()).hexdigest()
    path = pathlib.Path(file)
    if path.is_dir():
        digest = hashlib.sha256()
        for member in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(member.relative_to(path).as_posix().encode() + b"\0")
            hash_file(member, digest)
        return digest.hexdigest()
    return hash_file(path)


def hash_subject(entry_hashes: Iterable[str]) -> str:
    """Combine the entry hashes of a subject (in category and entry order) into one SHA-256 hex digest."""
    return hashlib.sha256("\n".join(entry_hashes).encode()).hexdigest()
