"""Tests of pymia.data.subjectfile.SubjectFile."""

from __future__ import annotations

import pytest

from pymia.data.creation.tabular import CsvValue
from pymia.data.subjectfile import FileCategory, SubjectFile, as_path
from pymia.errors import InvalidInputError


def test_categories_and_all_files_in_order():
    sf = SubjectFile("S1", images={"T1": "a.mha", "T2": "b.mha"}, labels={"GT": "c.nii.gz"})
    assert list(sf.categories) == ["images", "labels"]
    assert isinstance(sf.categories["images"], FileCategory)
    assert sf.get_all_files() == {"T1": "a.mha", "T2": "b.mha", "GT": "c.nii.gz"}
    assert sf.get_files("labels") == {"GT": "c.nii.gz"}
    assert "S1" in repr(sf)


def test_entry_ids_must_be_unique_across_categories():
    with pytest.raises(InvalidInputError, match="'T1' is used in categories 'images' and 'labels'"):
        SubjectFile("S1", images={"T1": "a"}, labels={"T1": "b"})


@pytest.mark.parametrize("subject", ["", None, 3])
def test_subject_id_must_be_a_string(subject):
    with pytest.raises(InvalidInputError, match="non-empty string"):
        SubjectFile(subject, images={"T1": "a"})


def test_category_must_be_a_mapping_and_exist():
    with pytest.raises(InvalidInputError, match="must map entry ids"):
        SubjectFile("S1", images=["a.mha"])
    with pytest.raises(InvalidInputError, match="has no category 'mask'"):
        SubjectFile("S1", images={"T1": "a"}).get_files("mask")


def test_as_path_of_files_and_table_values(tmp_path):
    assert as_path(tmp_path / "x.mha") == str(tmp_path / "x.mha")
    assert as_path(CsvValue("d.csv", "age", 3.0)) == "d.csv"
    assert as_path(3.0) is None
