"""to_dataframe / DataFrameWriter: tidy and wide forms, agreement with the CSV file."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from pymia.evaluation.evaluator import Result
from pymia.evaluation.writer import CSVWriter, DataFrameWriter, to_dataframe

RESULTS = [
    Result("S1", "WM", "DICE", 0.5),
    Result("S1", "WM", "HDRFDST95", 2.0),
    Result("S1", "GM", "DICE", float("nan")),
    Result("S2", "WM", "DICE", 0.75),
]


def test_tidy_form_has_one_row_per_result():
    frame = to_dataframe(RESULTS)
    assert list(frame.columns) == ["SUBJECT", "LABEL", "METRIC", "VALUE"]
    assert len(frame) == 4 and frame["VALUE"].dtype == "float64"
    assert frame.iloc[1].tolist() == ["S1", "WM", "HDRFDST95", 2.0]
    assert math.isnan(frame.iloc[2]["VALUE"])


def test_wide_form_has_one_column_per_metric_and_nan_for_missing():
    frame = to_dataframe(RESULTS, wide=True)
    assert list(frame.columns) == ["SUBJECT", "LABEL", "DICE", "HDRFDST95"]
    assert frame[["SUBJECT", "LABEL"]].values.tolist() == [["S1", "WM"], ["S1", "GM"], ["S2", "WM"]]
    assert (frame.dtypes[["DICE", "HDRFDST95"]] == "float64").all()
    assert math.isnan(frame.loc[2, "HDRFDST95"])  # not computed for S2


def test_wide_form_equals_the_csv_file_read_by_pandas(tmp_path):
    path = tmp_path / "results.csv"
    CSVWriter(path).write(RESULTS)
    pd.testing.assert_frame_equal(pd.read_csv(path), to_dataframe(RESULTS, wide=True))


def test_tidy_pivot_equals_wide():
    tidy = to_dataframe(RESULTS)
    pivot = tidy.pivot(index=["SUBJECT", "LABEL"], columns="METRIC", values="VALUE")
    wide = to_dataframe(RESULTS, wide=True).set_index(["SUBJECT", "LABEL"])
    pd.testing.assert_frame_equal(pivot.loc[wide.index, wide.columns], wide, check_names=False)


@pytest.mark.parametrize("wide", [False, True])
def test_empty_results_give_an_empty_frame_with_the_columns(wide):
    frame = to_dataframe([], wide=wide)
    assert len(frame) == 0
    assert list(frame.columns)[:2] == ["SUBJECT", "LABEL"]


def test_writer_keeps_the_last_frame():
    writer = DataFrameWriter(wide=True)
    assert writer.dataframe is None
    writer.write(RESULTS)
    assert writer.dataframe.shape == (3, 4)
