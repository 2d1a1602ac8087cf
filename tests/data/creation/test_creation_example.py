"""Smoke test of examples/creation/create_dataset.py on tiny phantom files in the example-data layout."""

from __future__ import annotations

import pathlib
import runpy
import subprocess
import sys

import h5py

from pymia.testing.phantoms import write_phantom_subjects

SCRIPT = pathlib.Path(__file__).resolve().parents[3] / "examples" / "creation" / "create_dataset.py"


def test_example_script_creates_the_dataset(tmp_path, capsys):
    write_phantom_subjects(tmp_path / "example-data", 2, (6, 7, 8))
    output = tmp_path / "out" / "example.h5"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--data", str(tmp_path / "example-data"), "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "found 2 subjects" in result.stdout and "data/images" in result.stdout
    with h5py.File(output) as f:
        assert f["data/images/0"].shape == (6, 7, 8, 2)
        assert set(f["data"]) == {"images", "labels", "mask", "numerical", "sex"}
    # a second run (in-process, to keep the test quick) refuses to replace the dataset
    main = runpy.run_path(str(SCRIPT))["main"]
    assert main(["--data", str(tmp_path / "example-data"), "--output", str(output)]) == 1
    assert "exists" in capsys.readouterr().err
