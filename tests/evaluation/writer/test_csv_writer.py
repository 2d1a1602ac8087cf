"""CSVWriter and CSVStatisticsWriter: format of pymia-evaluate, full precision, nan, the 0.3.4 path bug."""

from __future__ import annotations

import csv
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pymia.errors import InvalidInputError
from pymia.evaluation.evaluator import Result
from pymia.evaluation.writer import CSVStatisticsWriter, CSVWriter


@pytest.fixture
def results() -> list[Result]:
    values = {("S1", "WM"): (0.1 + 0.2, 1.0 / 3.0), ("S1", "GM"): (0.5, float("nan")), ("S2", "WM"): (1e-17, 2.0)}
    return [
        Result(subject, label, metric, value)
        for (subject, label), pair in values.items()
        for metric, value in zip(("HDRFDST95", "DICE"), pair)
    ]


def test_header_keeps_metric_order_of_results_and_rows_evaluation_order(tmp_path, results):
    path = tmp_path / "results.csv"
    CSVWriter(path).write(results)
    rows = list(csv.reader(path.open(newline="")))
    assert rows[0] == ["SUBJECT", "LABEL", "HDRFDST95", "DICE"]
    assert [row[:2] for row in rows[1:]] == [["S1", "WM"], ["S1", "GM"], ["S2", "WM"]]


def test_values_round_trip_with_full_precision_and_nan(tmp_path, results):
    """Every float must read back bit-identical (repr is the shortest exact form); nan is written as nan."""
    path = tmp_path / "results.csv"
    CSVWriter(path).write(results)
    frame = pd.read_csv(path)
    assert frame.loc[0, "HDRFDST95"] == 0.1 + 0.2
    assert frame.loc[0, "DICE"] == 1.0 / 3.0
    assert frame.loc[2, "HDRFDST95"] == 1e-17
    assert math.isnan(frame.loc[1, "DICE"])
    assert "nan" in path.read_text().splitlines()[2].split(",")


def test_missing_metric_in_a_row_is_an_empty_field(tmp_path):
    path = tmp_path / "results.csv"
    CSVWriter(path).write([Result("S1", "WM", "DICE", 0.5), Result("S2", "WM", "JACRD", 0.25)])
    assert path.read_text().splitlines() == ["SUBJECT,LABEL,DICE,JACRD", "S1,WM,0.5,", "S2,WM,,0.25"]


def test_path_without_csv_suffix_is_used_as_given(tmp_path, results):
    """0.3.4 wrote `results` to `results/.csv` (a hidden file in a new folder); pymia writes `results`."""
    path = tmp_path / "results"
    CSVWriter(path).write(results)
    assert path.is_file()
    assert not (tmp_path / "results" / ".csv").exists()


def test_missing_parent_folders_are_created(tmp_path, results):
    path = tmp_path / "a" / "b" / "results.csv"
    CSVWriter(path).write(results)
    assert path.is_file()


def test_folder_as_path_is_a_clear_error(tmp_path, results):
    with pytest.raises(InvalidInputError, match="is a folder"):
        CSVWriter(tmp_path).write(results)


def test_semicolon_delimiter_reproduces_the_0_3_4_separator(tmp_path, results):
    path = tmp_path / "results.csv"
    CSVWriter(path, delimiter=";").write(results)
    assert path.read_text().splitlines()[0] == "SUBJECT;LABEL;HDRFDST95;DICE"


@pytest.mark.parametrize("delimiter", ["", ",;", 1])
def test_bad_delimiter_is_rejected(tmp_path, delimiter):
    with pytest.raises(InvalidInputError, match="delimiter"):
        CSVWriter(tmp_path / "x.csv", delimiter=delimiter)


def test_duplicate_result_is_rejected(tmp_path):
    results = [Result("S1", "WM", "DICE", 0.5), Result("S1", "WM", "DICE", 0.6)]
    with pytest.raises(InvalidInputError, match="two results for subject 'S1'"):
        CSVWriter(tmp_path / "x.csv").write(results)


def test_numpy_scalars_are_written_as_numbers(tmp_path):
    path = tmp_path / "results.csv"
    CSVWriter(path).write([Result("S1", "WM", "TP", np.int64(12)), Result("S1", "WM", "DICE", np.float32(0.5))])
    assert path.read_text().splitlines()[1] == "S1,WM,12,0.5"


def test_statistics_csv_has_label_metric_statistic_value(tmp_path, results):
    """MEAN/STD over the defined values: WM DICE values 1/3 and 2 → mean 7/6, population std 5/6."""
    path = tmp_path / "statistics.csv"
    CSVStatisticsWriter(path).write(results)
    frame = pd.read_csv(path)
    assert list(frame.columns) == ["LABEL", "METRIC", "STATISTIC", "VALUE"]
    wm_dice = frame[(frame.LABEL == "WM") & (frame.METRIC == "DICE")].set_index("STATISTIC").VALUE
    assert wm_dice["MEAN"] == pytest.approx(7 / 6, rel=1e-15)
    assert wm_dice["STD"] == pytest.approx(5 / 6, rel=1e-15)
    assert wm_dice["COUNT"] == 2
    gm_dice = frame[(frame.LABEL == "GM") & (frame.METRIC == "DICE")].set_index("STATISTIC").VALUE
    assert math.isnan(gm_dice["MEAN"]) and gm_dice["COUNT"] == 0


def test_statistics_csv_with_custom_functions_and_delimiter(tmp_path, results):
    path = tmp_path / "statistics.csv"
    CSVStatisticsWriter(path, delimiter=";", functions={"MEDIAN": np.median}).write(results)
    lines = path.read_text().splitlines()
    assert lines[0] == "LABEL;METRIC;STATISTIC;VALUE"
    assert {line.split(";")[2] for line in lines[1:]} == {"MEDIAN"}


@settings(max_examples=25, deadline=None)
@given(values=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1, max_size=6))
def test_any_float_reads_back_bit_identical(tmp_path_factory, values):
    """Property: CSVWriter → csv → float() returns the same float64 for every value, nan and ±inf included."""
    path = tmp_path_factory.mktemp("csv") / "results.csv"
    CSVWriter(path).write([Result("S1", "L", f"M{i}", value) for i, value in enumerate(values)])
    row = path.read_text().splitlines()[1].split(",")[2:]
    read = np.array([float(text) for text in row])
    np.testing.assert_array_equal(read, np.array(values))
