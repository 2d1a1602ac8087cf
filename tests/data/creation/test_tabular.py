"""Tests of pymia.data.creation.tabular: reading subject tables and typing their columns."""

from __future__ import annotations

import pytest

from pymia.data.creation.tabular import CsvValue, read_csv_table, table_values
from pymia.errors import InvalidInputError, MissingFileError


def _table(tmp_path, text):
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_auto_detects_numeric_and_categorical_columns(tmp_path):
    path = _table(tmp_path, "subject,age,sex,site\nA,30,F,Bern\nB,41.5,M,Zürich\n")
    values = table_values(path)
    assert values["A"]["numerical"] == {"age": CsvValue(str(path), "age", 30.0)}
    assert values["B"]["site"]["site"].value == "Zürich"
    assert list(values["A"]) == ["numerical", "sex", "site"]


def test_explicit_columns_and_subject_selection(tmp_path):
    path = _table(tmp_path, "subject,age,score\nA,30,1\nB,40,2\nC,50,3\n")
    values = table_values(path, numerical=["score"], subjects=["C", "A"])
    assert list(values) == ["C", "A"] and values["C"] == {"numerical": {"score": CsvValue(str(path), "score", 3.0)}}


def test_table_errors(tmp_path):
    with pytest.raises(MissingFileError):
        read_csv_table(tmp_path / "none.csv")
    with pytest.raises(InvalidInputError, match="no 'subject' column"):
        read_csv_table(_table(tmp_path, "id,age\nA,3\n"))
    with pytest.raises(InvalidInputError, match="line 3: empty subject id"):
        read_csv_table(_table(tmp_path, "subject,age\nA,3\n,4\n"))
    with pytest.raises(InvalidInputError, match="has no rows"):
        read_csv_table(_table(tmp_path, "subject,age\n"))
    with pytest.raises(InvalidInputError, match="has no column 'weight'"):
        table_values(_table(tmp_path, "subject,age\nA,3\n"), numerical=["weight"])
    with pytest.raises(InvalidInputError, match="non-numeric value ''"):
        table_values(_table(tmp_path, "subject,age\nA,\n"), numerical=["age"])


def test_byte_order_mark_and_spaces_are_ignored(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("\ufeffsubject , age\n A , 3 \n".encode())
    columns, rows = read_csv_table(path)
    assert columns == ["subject", "age"] and rows == {"A": {"subject": "A", "age": "3"}}
