"""Framework-neutral parts of the reference training scripts: the dataset, the subject split and the
validation loop's back half (assemble full volumes → evaluate with pymia → CSV, NIfTI, TensorBoard).

Example code, not part of :mod:`pymia`. The PyTorch and TensorFlow scripts both use it, so they assemble
and evaluate identically.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import math
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from pymia.data import conversion
from pymia.data import definition as defs
from pymia.data.assembler import SubjectAssembler
from pymia.data.extraction import ComposeExtractor, DataExtractor, Extractor, PymiaDatasource
from pymia.data.storage.hdf5_reader import get_reader
from pymia.data.transformation import ComposeTransform, Transform
from pymia.evaluation import metric
from pymia.evaluation.evaluator import Result, SegmentationEvaluator
from pymia.evaluation.writer import CSVWriter


@dataclasses.dataclass
class DatasetSummary:
    """What a script needs to know about a dataset before building its network.

    Attributes
    ----------
    path : Path
        The HDF5 dataset.
    subjects : list of str
        Subject names, in dataset order.
    image_channels : int
        Entries of the ``images`` category (e.g. 2 for T1 and T2).
    n_classes : int
        Highest label value over all subjects + 1 (background 0 included).
    image_shape : tuple of int
        Spatial numpy shape (z, y, x) of the first subject.
    label_names : dict of int to str
        Foreground labels and their descriptions for the evaluator.
    """

    path: Path
    subjects: list[str]
    image_channels: int
    n_classes: int
    image_shape: tuple[int, ...]
    label_names: dict[int, str]


def parse_label_names(values: Sequence[str] | None, n_classes: int) -> dict[int, str]:
    """``['1=WM', '2=GM']`` → ``{1: 'WM', 2: 'GM'}``; without values: ``{k: 'LABEL<k>'}`` for every foreground class."""
    if not values:
        return {k: f"LABEL{k}" for k in range(1, n_classes)}
    names = {}
    for value in values:
        key, _, name = value.partition("=")
        if not key.strip().isdigit() or not name:
            raise SystemExit(f"error: --labels expects VALUE=NAME pairs such as 1=WM, got {value!r}")
        names[int(key)] = name
    return names


def summarize_dataset(path: Path, label_names: Sequence[str] | None = None) -> DatasetSummary:
    """Read subjects, channels, label count and shapes from ``path`` (labels are scanned once)."""
    reader = get_reader(path)
    try:
        n_subjects = reader.n_subjects
        highest = max(int(np.max(reader.data("labels", i))) for i in range(n_subjects))
        n_classes = max(highest + 1, 2)
        summary = DatasetSummary(
            path=Path(path),
            subjects=list(reader.get_subjects()),
            image_channels=len(reader.names("images")),
            n_classes=n_classes,
            image_shape=tuple(int(s) for s in reader.shapes("images")[0][:-1]),
            label_names=parse_label_names(label_names, n_classes),
        )
    finally:
        reader.close()
    return summary


def split_subjects(n_subjects: int, n_validation: int | None = None) -> tuple[list[int], list[int]]:
    """Train on the first subjects and validate on the last ``n_validation`` (default a quarter, ≥ 1).

    pymia's examples trained on Subject_1–3 and validated on Subject_4; with one subject it is used for both.
    """
    if n_subjects == 1:
        return [0], [0]
    if n_validation is None:
        n_validation = max(1, math.ceil(n_subjects / 4))
    n_validation = min(max(1, n_validation), n_subjects - 1)
    indices = list(range(n_subjects))
    return indices[:-n_validation], indices[-n_validation:]


def ensure_dataset(args: argparse.Namespace, *, shape: Sequence[int] = (12, 20, 24)) -> Path:
    """``--dataset`` if given; with ``--quick`` and no dataset, a tiny phantom dataset in the output folder."""
    if args.dataset is not None:
        path = Path(args.dataset)
        if not path.is_file():
            raise SystemExit(f"error: dataset {str(path)!r} does not exist; create one with pymia-create-dataset")
        return path
    if not args.quick:
        raise SystemExit("error: --dataset is required (or use --quick for a tiny generated dataset)")
    from pymia.testing.datasets import create_test_dataset

    return create_test_dataset(Path(args.output) / "quick-dataset.h5", n_subjects=3, shape=shape, seed=args.seed,
                               overwrite=True)


def add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    """Options every script shares for data, output and the run length."""
    parser.add_argument("--dataset", type=Path, help="pymia HDF5 dataset with 'images' and 'labels'")
    parser.add_argument("--output", type=Path, required=True, help="folder for checkpoints, logs, CSV and NIfTI")
    parser.add_argument("--epochs", type=int, help="number of epochs (script default if omitted)")
    parser.add_argument("--validation-subjects", type=int, help="number of last subjects used for validation")
    parser.add_argument("--labels", nargs="*", metavar="VALUE=NAME", help="label descriptions, e.g. 1=WM 2=GM 3=CSF")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--quick", action="store_true",
                        help="CPU smoke run of seconds: tiny (generated) data, 1 epoch, few steps")
    parser.add_argument("--time-budget", type=float,
                        help="stop training after this many wall-clock seconds (checked per step), then evaluate")
    parser.add_argument("--cpu-budget", type=float,
                        help="stop training when the process has used this many CPU seconds (all threads, "
                             "time.process_time; comparable on a shared machine), then evaluate")
    parser.add_argument("--max-steps", type=int, help="stop each epoch after this many training steps")
    parser.add_argument("--resume", action="store_true", help="continue from OUTPUT/checkpoint if present")


class SubjectIndexExtractor(Extractor):
    """Add the sample's ``subject_index`` (an int, so default collation works) to the sample."""

    def extract(self, reader: object, params: dict, extracted: dict) -> None:
        """Copy ``params['subject_index']``."""
        extracted[defs.KEY_SUBJECT_INDEX] = int(params[defs.KEY_SUBJECT_INDEX])


def make_extractor(categories: Sequence[str] = ("images", "labels")) -> Extractor:
    """The scripts' extractor: the given categories plus ``subject_index`` for per-subject normalisation."""
    return ComposeExtractor([DataExtractor(categories=tuple(categories)), SubjectIndexExtractor()])


@dataclasses.dataclass
class IntensityStatistics:
    """Per-channel window and z-score statistics of one subject, shape (C,) each."""

    lower: np.ndarray
    upper: np.ndarray
    mean: np.ndarray
    std: np.ndarray


def intensity_statistics(
    path: Path, subject_indices: Sequence[int], *, window: tuple[float, float] | None = None,
    sample_fraction: float = 0.1, seed: int = 0,
) -> dict[int, IntensityStatistics]:
    """Per subject and channel: percentile window and z-score statistics from a random voxel sample.

    ``window=(0.6, 0.99)`` (quantiles as fractions, the CT recipe) clips intensities to those quantiles of
    the sample before mean and standard deviation are taken; without a window nothing is clipped.
    """
    reader = get_reader(path)
    rng = np.random.default_rng(seed)
    statistics = {}
    try:
        for subject_index in subject_indices:
            images = np.asarray(reader.data("images", subject_index))
            voxels = images.reshape(-1, images.shape[-1])
            n = max(1, round(len(voxels) * sample_fraction))
            sample = voxels[np.sort(rng.choice(len(voxels), size=n, replace=False))].astype(np.float64)
            if window is None:
                lower, upper = np.full(sample.shape[1], -np.inf), np.full(sample.shape[1], np.inf)
            else:
                lower, upper = np.quantile(sample, window, axis=0)
                sample = np.clip(sample, lower, upper)
            std = sample.std(axis=0)
            statistics[int(subject_index)] = IntensityStatistics(lower, upper, sample.mean(axis=0),
                                                                 np.where(std > 0, std, 1.0))
    finally:
        reader.close()
    return statistics


class SubjectIntensityNormalization(Transform):
    """Window and z-score each sample's ``images`` with the statistics of its subject (float32)."""

    def __init__(self, statistics: dict[int, IntensityStatistics]) -> None:
        self.statistics = statistics

    def __call__(self, sample: dict) -> dict:
        """Normalise ``sample['images']`` (channel last) using ``sample['subject_index']``."""
        s = self.statistics[int(sample[defs.KEY_SUBJECT_INDEX])]
        images = np.clip(np.asarray(sample[defs.KEY_IMAGES], dtype=np.float32), s.lower, s.upper)
        sample[defs.KEY_IMAGES] = ((images - s.mean) / s.std).astype(np.float32)
        return sample

    def __repr__(self) -> str:
        return f"SubjectIntensityNormalization({len(self.statistics)} subjects)"


def compose(*transforms: Transform | None) -> Transform:
    """A :class:`ComposeTransform` of the given transforms, ``None`` entries left out."""
    return ComposeTransform([t for t in transforms if t is not None])


class Budget:
    """Stop conditions of a run: ``--time-budget`` wall-clock seconds and ``--cpu-budget`` CPU seconds."""

    def __init__(self, time_budget: float | None = None, cpu_budget: float | None = None) -> None:
        self.start = time.perf_counter()
        self.cpu_start = time.process_time()
        self.time_budget = time_budget
        self.cpu_budget = cpu_budget

    def spent(self) -> bool:
        """Whether either budget is used up."""
        return (self.time_budget is not None and self.elapsed() > self.time_budget) or (
            self.cpu_budget is not None and self.cpu_seconds() > self.cpu_budget)

    def elapsed(self) -> float:
        """Wall-clock seconds since the start."""
        return time.perf_counter() - self.start

    def cpu_seconds(self) -> float:
        """CPU seconds of this process (all threads) since the start."""
        return time.process_time() - self.cpu_start


@dataclasses.dataclass
class EvaluationOutput:
    """Results of one evaluation pass over the validation subjects."""

    results: list[Result]
    predictions: dict[str, sitk.Image]

    def mean(self, metric_id: str = "DICE") -> float:
        """Mean of ``metric_id`` over subjects and labels (nan values ignored; nan if none)."""
        values = [r.value for r in self.results if r.metric == metric_id and not math.isnan(r.value)]
        return float(np.mean(values)) if values else float("nan")

    def mean_per_label(self, metric_id: str = "DICE") -> dict[str, float]:
        """Mean of ``metric_id`` over subjects, per label description."""
        per_label: dict[str, list[float]] = {}
        for r in self.results:
            if r.metric == metric_id and not math.isnan(r.value):
                per_label.setdefault(r.label, []).append(r.value)
        return {label: float(np.mean(v)) for label, v in per_label.items()}


class VolumeEvaluation:
    """Collect network outputs per sample, assemble each subject, evaluate it against its labels.

    Parameters
    ----------
    datasource : PymiaDatasource
        The validation datasource whose samples the outputs belong to.
    summary : DatasetSummary
        Label names and subjects.
    final : bool
        Evaluate Dice and the 95th-percentile Hausdorff distance (final evaluation) instead of Dice only.
    blending : str
        How the assembler combines overlapping samples (``mean``, ``gaussian``, ...).

    Notes
    -----
    Outputs are class probabilities ``(B, *spatial, C)`` (overlapping patches are averaged by the
    assembler) or hard labels ``(B, *spatial, 1)``; the label map is the argmax after assembly.
    """

    def __init__(self, datasource: PymiaDatasource, summary: DatasetSummary, *, final: bool = False,
                 blending: str = "mean") -> None:
        self.datasource = datasource
        self.summary = summary
        self.assembler = SubjectAssembler(datasource, blending=blending)
        metrics = [metric.DiceCoefficient()]
        if final:
            metrics.append(metric.HausdorffDistance(percentile=95))
        self.evaluator = SegmentationEvaluator(metrics, summary.label_names)
        self.predictions: dict[str, sitk.Image] = {}
        self.probabilities: dict[int, np.ndarray] = {}
        self.reader = get_reader(summary.path)

    def add_batch(self, outputs: np.ndarray, sample_indices: Sequence[int], last_batch: bool) -> None:
        """Add one batch ``(B, *spatial, C)`` of outputs; evaluate the subjects it completes."""
        self.assembler.add_batch(np.asarray(outputs, dtype=np.float32), np.asarray(sample_indices), last_batch)
        for subject_index in sorted(self.assembler.subjects_ready):
            self._evaluate_subject(subject_index)

    def _evaluate_subject(self, subject_index: int) -> None:
        assembled = self.assembler.get_assembled_subject(subject_index)
        self.probabilities[subject_index] = assembled
        labels = assembled.argmax(axis=-1) if assembled.shape[-1] > 1 else np.rint(assembled[..., 0])
        self.evaluate_label_map(subject_index, labels.astype(np.uint8))

    def evaluate_label_map(self, subject_index: int, label_map: np.ndarray) -> None:
        """Evaluate a full label map ``(z, y, x)`` of subject ``subject_index`` with its geometry."""
        properties = self.reader.image_properties(subject_index)
        prediction = conversion.NumpySimpleITKImageBridge.convert(label_map, properties)
        reference_array = np.asarray(self.reader.data("labels", subject_index))[..., 0]
        reference = conversion.NumpySimpleITKImageBridge.convert(reference_array.astype(np.uint8), properties)
        name = self.summary.subjects[subject_index]
        self.evaluator.evaluate(prediction, reference, name)
        self.predictions[name] = prediction

    def finish(self) -> EvaluationOutput:
        """Results of every subject evaluated so far."""
        self.reader.close()
        return EvaluationOutput(list(self.evaluator.results), dict(self.predictions))


def write_outputs(evaluation: EvaluationOutput, output: Path) -> Path:
    """Write ``results.csv`` (one row per subject and label) and ``predictions/<subject>.nii.gz``."""
    output.mkdir(parents=True, exist_ok=True)
    csv_path = output / "results.csv"
    CSVWriter(csv_path).write(evaluation.results)
    prediction_folder = output / "predictions"
    prediction_folder.mkdir(exist_ok=True)
    for name, image in evaluation.predictions.items():
        sitk.WriteImage(image, str(prediction_folder / f"{name}.nii.gz"), useCompression=True)
    return csv_path


def log_overlay(logger: object, summary: DatasetSummary, evaluation: EvaluationOutput, step: int) -> None:
    """Log image / reference / prediction of the first evaluated subject's central labelled slice to TensorBoard."""
    if not evaluation.predictions:
        return
    name, prediction = next(iter(evaluation.predictions.items()))
    subject_index = summary.subjects.index(name)
    reader = get_reader(summary.path)
    try:
        # copies: the reader's arrays may be memory maps that become invalid when it closes
        images = np.array(reader.data("images", subject_index))
        reference = np.array(reader.data("labels", subject_index))[..., 0]
    finally:
        reader.close()
    logger.log_overlay(f"validation/overlay/{name}", images, reference,  # type: ignore[attr-defined]
                       sitk.GetArrayFromImage(prediction), step)


def append_history(output: Path, epoch: int, values: dict[str, float]) -> None:
    """Append one epoch's numbers to ``history.csv`` (header written once)."""
    path = output / "history.csv"
    new = not path.exists()
    with path.open("a", newline="") as file:
        writer = csv.writer(file)
        if new:
            writer.writerow(["epoch", *values])
        writer.writerow([epoch, *(f"{v:.6g}" for v in values.values())])
