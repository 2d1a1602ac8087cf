"""Non-image values (age, sex, scores) read from a CSV table with one row per subject.

A :class:`CsvValue` is one cell; it takes the place of a file in a
:class:`~pymia.data.subjectfile.SubjectFile` category, so the creation pipeline treats numbers and
categories like any other entry. :func:`table_values` reads and validates a table once.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import os
import pathlib
from collections.abc import Sequence

from pymia.errors import InvalidInputError, MissingFileError

__all__ = ["SUBJECT_COLUMN", "CsvValue", "read_csv_table", "table_values"]

SUBJECT_COLUMN = "subject"


@dataclasses.dataclass(frozen=True)
class CsvValue:
    """One cell of a subject table: the value of ``column`` for one subject.

    Attributes
    ----------
    path : str
        The CSV file the value comes from (stored in ``meta/files`` like an image path).
    column : str
        The column name (the entry id).
    value : float or str
        The value: ``float`` for numerical columns, ``str`` for categorical ones.
    """

    path: str
    column: str
    value: float | str

    def __fspath__(self) -> str:
        return self.path


def read_csv_table(path: str | os.PathLike) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Read a CSV file with a ``subject`` column; return its columns and the rows by subject id.

    Raises
    ------
    MissingFileError
        The file does not exist.
    InvalidInputError
        No ``subject`` column, an empty subject id, duplicate subject ids, or no rows.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise MissingFileError(f"table '{path}' does not exist; give the path of a CSV file with a 'subject' column")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = [c.strip() for c in reader.fieldnames or []]
        if SUBJECT_COLUMN not in columns:
            raise InvalidInputError(
                f"table '{path}' has no '{SUBJECT_COLUMN}' column (columns: {columns}); add one with the subject ids"
            )
        rows: dict[str, dict[str, str]] = {}
        for line, raw in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
            subject = row[SUBJECT_COLUMN]
            if not subject:
                raise InvalidInputError(f"table '{path}' line {line}: empty subject id; fill in the subject column")
            if subject in rows:
                raise InvalidInputError(
                    f"table '{path}' line {line}: duplicate subject id '{subject}'; every subject needs one row"
                )
            rows[subject] = row
    if not rows:
        raise InvalidInputError(f"table '{path}' has no rows; add one row per subject")
    return columns, rows


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def table_values(
    path: str | os.PathLike,
    *,
    numerical: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    subjects: Sequence[str] | None = None,
) -> dict[str, dict[str, dict[str, CsvValue]]]:
    """Read the non-image columns of a subject table as :class:`CsvValue` entries.

    Parameters
    ----------
    path : path-like
        CSV file with a ``subject`` column.
    numerical : sequence of str, optional
        Columns whose values must be numbers; they form the category ``'numerical'`` (one entry per
        column, stored as float64 of shape (1, entries)).
    categorical : sequence of str, optional
        Columns of text values; each forms its own category named like the column (e.g. ``'sex'``).
    subjects : sequence of str, optional
        Subject ids that must have a row (others are ignored).

    If neither ``numerical`` nor ``categorical`` is given, every other column is used: columns whose
    values all parse as numbers are numerical, the rest categorical.

    Returns
    -------
    dict
        Subject id → category → entry id → :class:`CsvValue`.

    Raises
    ------
    InvalidInputError
        A named column is missing, a numerical value is not a number (the message names the subject,
        column and value), or a subject in ``subjects`` has no row.
    """
    columns, rows = read_csv_table(path)
    others = [c for c in columns if c != SUBJECT_COLUMN]
    if numerical is None and categorical is None:
        numerical = [c for c in others if all(_is_number(row[c]) for row in rows.values())]
        categorical = [c for c in others if c not in numerical]
    numerical = list(numerical or [])
    categorical = list(categorical or [])
    for column in numerical + categorical:
        if column not in columns:
            raise InvalidInputError(f"table '{path}' has no column '{column}' (columns: {columns})")
    if subjects is not None:
        missing = [s for s in subjects if s not in rows]
        if missing:
            raise InvalidInputError(f"table '{path}' has no row for subjects {missing}; add a row for each subject")
        rows = {s: rows[s] for s in subjects}
    text_path = os.fspath(path)
    values: dict[str, dict[str, dict[str, CsvValue]]] = {}
    for subject, row in rows.items():
        groups: dict[str, dict[str, CsvValue]] = {}
        if numerical:
            groups["numerical"] = {c: CsvValue(text_path, c, _number(path, subject, c, row[c])) for c in numerical}
        for column in categorical:
            groups[column] = {column: CsvValue(text_path, column, row[column])}
        values[subject] = groups
    return values


def _number(path: str | os.PathLike, subject: str, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInputError(
            f"table '{path}': subject '{subject}' has the non-numeric value {text!r} in numerical column "
            f"'{column}'; fix the value or list the column as categorical"
        ) from None
    if math.isnan(value) and text.strip().lower() != "nan":
        raise InvalidInputError(f"table '{path}': subject '{subject}' column '{column}' value {text!r} is not a number")
    return value
