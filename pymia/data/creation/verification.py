"""Check a dataset against its raw files: recompute the SHA-256 hashes stored at creation.

A dataset records, per subject and entry, the hash of the raw file it was made from
(``meta/hashes``) and the file's path (``meta/files``). :func:`verify_source_files` recomputes the
hashes of the files that are still there and reports every file that is missing or changed.
"""

from __future__ import annotations

import os
import pathlib

import h5py

import pymia.data.definition as defs
from pymia.data.creation.hashing import hash_entry
from pymia.errors import DatasetFormatError, MissingFileError

__all__ = ["verify_source_files"]


def _strings(dataset: h5py.Dataset) -> list:
    return dataset.asstr()[()].tolist()


def verify_source_files(dataset_path: str | os.PathLike, *, file_root: str | os.PathLike | None = None) -> list[str]:
    """Return one message per raw file that is missing or whose content changed since creation.

    Parameters
    ----------
    dataset_path : path-like
        A pymia dataset written with hashes and file paths (not anonymized).
    file_root : path-like, optional
        Folder the relative paths in ``meta/files`` start from, if the raw files moved; default the
        stored ``meta/files/file_root``.

    Returns
    -------
    list of str
        Empty if every file is unchanged. Only image files are checked: the hashes of table values
        (numerical and categorical columns) cover the stored values, not the table file.

    Raises
    ------
    MissingFileError
        The dataset does not exist.
    DatasetFormatError
        The dataset has no hashes (pymia 0.3.4, or ``hashes=False``) or no file paths (anonymized).
    """
    dataset_path = pathlib.Path(dataset_path)
    if not dataset_path.is_file():
        raise MissingFileError(f"dataset '{dataset_path}' does not exist")
    problems = []
    with h5py.File(dataset_path, "r") as f:
        if defs.LOC_HASHES_SUBJECT not in f:
            raise DatasetFormatError(
                f"dataset '{dataset_path}' stores no hashes (written by pymia 0.3.4 or with hashes=False); "
                "there is nothing to verify against"
            )
        if defs.LOC_FILES_ROOT not in f:
            raise DatasetFormatError(
                f"dataset '{dataset_path}' stores no file paths (anonymized); the raw files cannot be located"
            )
        root = pathlib.Path(file_root) if file_root is not None else pathlib.Path(f[defs.LOC_FILES_ROOT].asstr()[()])
        subjects = _strings(f[defs.LOC_SUBJECT])
        for name in f["meta/hashes"]:
            if not name.endswith("_files"):
                continue
            category = name[: -len("_files")]
            location = defs.LOC_FILES_PLACEHOLDER.format(category)
            if location not in f or _is_table(f, category):
                continue
            hashes, files = _strings(f[defs.LOC_HASHES_FILES_PLACEHOLDER.format(category)]), _strings(f[location])
            for subject, subject_hashes, subject_files in zip(subjects, hashes, files):
                for expected, relative in zip(subject_hashes, subject_files):
                    path = root / relative
                    if not path.exists():
                        problems.append(f"subject '{subject}', category '{category}': file '{path}' is missing")
                    elif hash_entry(path) != expected:
                        problems.append(
                            f"subject '{subject}', category '{category}': file '{path}' changed since the dataset "
                            "was created (SHA-256 differs)"
                        )
    return problems


def _is_table(f: h5py.File, category: str) -> bool:
    """Whether a category holds table values: arrays of shape (1, entries), where images have 3+ axes."""
    shapes = f.get(defs.LOC_SHAPES_PLACEHOLDER.format(category))
    return shapes is not None and shapes.shape[1] == 2
