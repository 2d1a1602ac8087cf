"""JSONWriter: strict JSON records equal to the tidy DataFrame, nan as null."""

from __future__ import annotations

import json
import math

import pandas as pd

from pymia.evaluation.evaluator import Result
from pymia.evaluation.writer import JSONWriter, to_dataframe

RESULTS = [
    Result("S1", "WM", "DICE", 0.1 + 0.2),
    Result("S1", "WM", "HDRFDST95", float("nan")),
    Result("S2", "WM", "DICE", float("inf")),
]


def test_records_are_strict_json_with_null_for_non_finite(tmp_path):
    path = tmp_path / "results.json"
    JSONWriter(path).write(RESULTS)
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    records = json.loads(text, parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))
    assert records[0] == {"SUBJECT": "S1", "LABEL": "WM", "METRIC": "DICE", "VALUE": 0.1 + 0.2}
    assert records[1]["VALUE"] is None and records[2]["VALUE"] is None


def test_records_load_into_the_tidy_dataframe(tmp_path):
    path = tmp_path / "out" / "results.json"
    JSONWriter(path, indent=None).write(RESULTS[:2])
    frame = pd.DataFrame(json.loads(path.read_text()))
    frame["VALUE"] = frame["VALUE"].astype("float64")
    pd.testing.assert_frame_equal(frame, to_dataframe(RESULTS[:2]))
    assert len(path.read_text().splitlines()) == 1
    assert math.isnan(frame.loc[1, "VALUE"])
