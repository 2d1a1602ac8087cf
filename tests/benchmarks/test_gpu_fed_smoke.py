"""The GPU-fed benchmark runs on CPU as a smoke test, so it still works when a GPU machine is lent."""

from __future__ import annotations

import importlib.util
import json
import pathlib

import pytest

pytest.importorskip("torch")

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_fed.py"


def test_gpu_fed_benchmark_smoke_run_on_cpu(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("gpu_fed_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "gpu_fed.json"
    arguments = ["--device", "cpu", "--subjects", "2", "--shape", "8", "32", "32", "--iterations", "2"]
    assert module.main([*arguments, "--warm-up", "1", "--workers", "0", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "CPU (smoke run" in printed and out.is_file()
    rows = json.loads(out.read_text())["rows"]
    assert [(row["loader"], row["workers"]) for row in rows] == [
        ("DataLoader", 0),
        ("DataLoader", 2),
        ("BatchLoader", 0),
        ("BatchLoader", 2),
    ]
    assert all(row["samples_per_s"] > 0 and 0 <= row["loader_wait"] <= 1 for row in rows)
