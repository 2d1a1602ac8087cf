"""Tests of pymia.data.creation.hashing against hashlib.sha256 on the same bytes."""

from __future__ import annotations

import hashlib

from pymia.data.creation.hashing import hash_entry, hash_file, hash_subject
from pymia.data.creation.tabular import CsvValue


def test_file_hash_is_sha256_of_the_bytes(tmp_path):
    data = bytes(range(256)) * 5000  # more than one read block
    (tmp_path / "a.mha").write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert hash_file(tmp_path / "a.mha") == expected == hash_entry(str(tmp_path / "a.mha"))


def test_folder_hash_covers_names_and_contents(tmp_path):
    folder = tmp_path / "series"
    folder.mkdir()
    (folder / "1.dcm").write_bytes(b"one")
    (folder / "2.dcm").write_bytes(b"two")
    first = hash_entry(folder)
    (folder / "2.dcm").write_bytes(b"TWO")
    changed = hash_entry(folder)
    (folder / "2.dcm").rename(folder / "3.dcm")
    renamed = hash_entry(folder)
    assert len({first, changed, renamed}) == 3


def test_value_and_subject_hashes():
    assert hash_entry(CsvValue("t.csv", "age", 30.0)) == hashlib.sha256(b"age=30.0").hexdigest()
    assert hash_entry(CsvValue("other.csv", "age", 30.0)) == hash_entry(CsvValue("t.csv", "age", 30.0))
    assert hash_subject(["a", "b"]) == hashlib.sha256(b"a\nb").hexdigest() != hash_subject(["b", "a"])
