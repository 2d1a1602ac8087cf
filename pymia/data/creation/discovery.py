"""Build :class:`~pymia.data.subjectfile.SubjectFile` objects from a manifest CSV or a subject folder tree.

Manifest mode: a CSV with a ``subject`` column, one path column per image/label/mask key (relative
paths are relative to the CSV's folder) and numerical/categorical columns. Folder mode: one
sub-folder per subject; an entry's file is the one whose name holds the key as a whole token after
the subject id (``Subject_1/Subject_1_T1.mha``, ``sub-01/T1.nii.gz``; ``T1`` never matches ``T1c``).
Everything is checked before any data is written.
"""

from __future__ import annotations

import os
import pathlib
import re
from collections.abc import Sequence

from pymia.data.creation.tabular import read_csv_table, table_values
from pymia.data.subjectfile import SubjectFile
from pymia.errors import InvalidInputError, MissingFileError

__all__ = ["find_entry_file", "subjects_from_folder", "subjects_from_manifest"]

_IMAGE_SUFFIXES = (
    ".nii.gz",
    ".nii",
    ".mha",
    ".mhd",
    ".nrrd",
    ".nhdr",
    ".dcm",
    ".ima",
    ".img",
    ".hdr",
    ".tif",
    ".tiff",
    ".png",
    ".vtk",
)
_SEPARATORS = "_-. "


def _image_groups(images: Sequence[str], labels: Sequence[str], mask: Sequence[str] | str | None) -> dict:
    if isinstance(mask, str):
        mask = [mask]
    groups = {"images": list(images), "labels": list(labels or []), "mask": list(mask or [])}
    if not groups["images"]:
        raise InvalidInputError("no image keys given; name at least one, e.g. --images T1")
    keys = [k for ks in groups.values() for k in ks]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise InvalidInputError(f"keys {repeated} are given more than once; each key names one entry")
    return {category: keys for category, keys in groups.items() if keys}


def subjects_from_manifest(
    manifest: str | os.PathLike,
    *,
    images: Sequence[str],
    labels: Sequence[str] = (),
    mask: Sequence[str] | str | None = None,
    numerical: Sequence[str] = (),
    categorical: Sequence[str] = (),
) -> list[SubjectFile]:
    """Read subjects from a manifest CSV.

    Parameters
    ----------
    manifest : path-like
        CSV with a ``subject`` column and one column per key below.
    images, labels : sequence of str
        Path columns of the ``images`` and ``labels`` categories (stacked in this order).
    mask : str or sequence of str, optional
        Path column(s) of the ``mask`` category.
    numerical : sequence of str
        Number columns, stored in the ``numerical`` category.
    categorical : sequence of str
        Text columns; each is stored as its own category named like the column.

    Raises
    ------
    InvalidInputError
        A column is missing, a path cell is empty, a number is not numeric, or a subject id repeats.
    MissingFileError
        The manifest or a listed file does not exist.
    """
    manifest = pathlib.Path(manifest)
    groups = _image_groups(images, labels, mask)
    columns, rows = read_csv_table(manifest)
    for key in [k for ks in groups.values() for k in ks]:
        if key not in columns:
            raise InvalidInputError(f"manifest '{manifest}' has no column '{key}' (columns: {columns})")
    values = (
        table_values(manifest, numerical=numerical, categorical=categorical)
        if numerical or categorical
        else {subject: {} for subject in rows}
    )
    subjects = []
    for subject, row in rows.items():
        files = {}
        for category, keys in groups.items():
            files[category] = {}
            for key in keys:
                cell = row[key]
                if not cell:
                    raise InvalidInputError(
                        f"manifest '{manifest}': subject '{subject}' has no file for '{key}'; fill in the path"
                    )
                path = pathlib.Path(cell)
                path = path if path.is_absolute() else manifest.parent / path
                if not path.exists():
                    raise MissingFileError(
                        f"manifest '{manifest}': file '{path}' of subject '{subject}', entry '{key}' does not exist"
                    )
                files[category][key] = str(path)
        subjects.append(SubjectFile(subject, **files, **values[subject]))
    return subjects


def subjects_from_folder(
    folder: str | os.PathLike,
    *,
    images: Sequence[str],
    labels: Sequence[str] = (),
    mask: Sequence[str] | str | None = None,
    demographics: str | os.PathLike | None = None,
    numerical: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
) -> list[SubjectFile]:
    """Read subjects from a folder with one sub-folder per subject.

    Parameters
    ----------
    folder : path-like
        Holds one sub-folder per subject (its name is the subject id); hidden folders are ignored.
    images, labels, mask
        Keys to find in the file names (see :func:`find_entry_file`).
    demographics : path-like, optional
        CSV with a ``subject`` column whose other columns become non-image entries.
    numerical, categorical : sequence of str, optional
        Columns of ``demographics`` to use; default all columns, numeric ones as numerical.

    Raises
    ------
    MissingFileError
        The folder does not exist or has no subject folders, or a subject has no file for a key.
    InvalidInputError
        A key matches several files of a subject, or the demographics table is invalid.
    """
    folder = pathlib.Path(folder)
    groups = _image_groups(images, labels, mask)
    if not folder.is_dir():
        raise MissingFileError(f"data folder '{folder}' does not exist; give the folder holding one folder per subject")
    subject_folders = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not subject_folders:
        raise MissingFileError(f"data folder '{folder}' has no subject folders; put each subject's files in its own")
    values: dict = {p.name: {} for p in subject_folders}
    if demographics is not None:
        values = table_values(
            demographics, numerical=numerical, categorical=categorical, subjects=[p.name for p in subject_folders]
        )
    subjects = []
    for subject_folder in subject_folders:
        subject = subject_folder.name
        files = {
            category: {key: str(find_entry_file(subject_folder, subject, key)) for key in keys}
            for category, keys in groups.items()
        }
        subjects.append(SubjectFile(subject, **files, **values[subject]))
    return subjects


def _strip_suffix(name: str) -> str:
    lower = name.lower()
    for suffix in _IMAGE_SUFFIXES:
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return name


def find_entry_file(subject_folder: str | os.PathLike, subject: str, key: str) -> pathlib.Path:
    """Return the one file (or DICOM folder) of ``subject_folder`` whose name holds ``key`` as a token.

    The name without its image suffix, and without a leading subject id plus separator, must equal
    ``key`` or contain it between separators (``_ - .`` or space): for key ``T1``,
    ``Subject_1_T1.mha`` and ``T1.nii.gz`` match; ``Subject_1_T1c.mha`` and ``T1x_T2.mha`` (subject
    ``T1x``) do not. If several names match, the one equal to ``key`` wins.

    Raises
    ------
    MissingFileError
        No file matches (the message lists the files seen).
    InvalidInputError
        Several files match.
    """
    subject_folder = pathlib.Path(subject_folder)
    token = re.compile(rf"(?:^|[{re.escape(_SEPARATORS)}]){re.escape(key)}(?:$|[{re.escape(_SEPARATORS)}])")
    candidates = sorted(p for p in subject_folder.iterdir() if not p.name.startswith("."))
    matches, exact = [], []
    for path in candidates:
        stem = _strip_suffix(path.name) if path.is_file() else path.name
        if stem.startswith(subject) and len(stem) > len(subject) and stem[len(subject)] in _SEPARATORS:
            stem = stem[len(subject) + 1 :]
        if token.search(stem):
            matches.append(path)
            if stem == key:
                exact.append(path)
    if len(matches) > 1 and len(exact) == 1:
        return exact[0]  # 'flair' picks case_flair.nrrd over case_flair_pre.nrrd
    if not matches:
        raise MissingFileError(
            f"subject '{subject}' has no file for key '{key}' in '{subject_folder}' "
            f"(files: {[p.name for p in candidates]}); name it like '{subject}_{key}.nii.gz'"
        )
    if len(matches) > 1:
        raise InvalidInputError(
            f"subject '{subject}': key '{key}' matches several files {[p.name for p in matches]}; "
            "rename them or use a more specific key"
        )
    return matches[0]
