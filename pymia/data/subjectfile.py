"""The description of one subject's raw files, grouped into categories (images, labels, ...).

A :class:`SubjectFile` is what the :class:`~pymia.data.creation.Traverser` walks: each category
(``images``, ``labels``, ``mask``, ``numerical``, ...) maps entry ids (``'T1'``, ``'GT'``) to a file
(path, DICOM folder, or a :class:`~pymia.data.creation.tabular.CsvValue` cell of a table).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pymia.errors import InvalidInputError

__all__ = ["FileCategory", "SubjectFile"]


class FileCategory:
    """The entries of one category of a subject.

    Parameters
    ----------
    entries : mapping of str to path-like
        Entry id → file, in the order in which the entries are stacked on the channel axis.
    """

    def __init__(self, entries: Mapping[str, Any] | None = None) -> None:
        self.entries: dict[str, Any] = dict(entries or {})

    def __repr__(self) -> str:
        return f"FileCategory({self.entries!r})"


class SubjectFile:
    """The raw files of one subject.

    Parameters
    ----------
    subject : str
        The subject id (unique within a dataset).
    **file_groups : mapping of str to path-like
        One keyword per category (e.g. ``images={'T1': 't1.mha', 'T2': 't2.mha'}``,
        ``labels={'GT': 'gt.nii.gz'}``). Entry ids must be unique across all categories.

    Examples
    --------
    >>> sf = SubjectFile("Subject_1", images={"T1": "s1/T1.mha", "T2": "s1/T2.mha"}, labels={"GT": "s1/GT.mha"})
    >>> list(sf.get_all_files())
    ['T1', 'T2', 'GT']
    """

    def __init__(self, subject: str, **file_groups: Mapping[str, Any]) -> None:
        if not isinstance(subject, str) or not subject:
            raise InvalidInputError(f"a subject id must be a non-empty string, got {subject!r}")
        self.subject = subject
        self.categories: dict[str, FileCategory] = {}
        seen: dict[str, str] = {}
        for category, entries in file_groups.items():
            if not isinstance(entries, Mapping):
                raise InvalidInputError(
                    f"subject '{subject}': category '{category}' must map entry ids to files, got {entries!r}"
                )
            for entry in entries:
                if entry in seen:
                    raise InvalidInputError(
                        f"subject '{subject}': entry id '{entry}' is used in categories '{seen[entry]}' and "
                        f"'{category}'; entry ids must be unique across categories"
                    )
                seen[entry] = category
            self.categories[category] = FileCategory(entries)

    def get_all_files(self) -> dict[str, Any]:
        """Return all entries of all categories as one dictionary entry id → file, in category order."""
        return {entry: file for category in self.categories.values() for entry, file in category.entries.items()}

    def get_files(self, category: str) -> dict[str, Any]:
        """Return the entries of one category; raise :class:`~pymia.errors.InvalidInputError` if it is absent."""
        if category not in self.categories:
            raise InvalidInputError(
                f"subject '{self.subject}' has no category '{category}'; it has {list(self.categories)}"
            )
        return dict(self.categories[category].entries)

    def __repr__(self) -> str:
        groups = ", ".join(f"{name}={category.entries!r}" for name, category in self.categories.items())
        return f"SubjectFile({self.subject!r}, {groups})"


def as_path(file: Any) -> str | None:
    """Return the file system path of an entry's file, or ``None`` if it is not path-like."""
    if isinstance(file, (str, os.PathLike)):
        return os.fspath(file)
    path = getattr(file, "path", None)
    if isinstance(path, (str, os.PathLike)):
        return os.fspath(path)
    return None
