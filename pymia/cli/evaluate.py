"""``pymia-evaluate``: evaluate a folder of predictions against a folder of references.

Files pair by identical file name (NIfTI, MetaImage, NRRD); the results go to a CSV file with header
``SUBJECT,LABEL,<metric ids>``, optionally with a statistics CSV and a box plot. User errors end the
program with one line on stderr and exit status 1 (2 for a wrong command line), never a traceback.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import math
import pathlib
import sys
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pymia.errors import InvalidInputError, MissingFileError, NotComputableMetricWarning, PymiaError

if TYPE_CHECKING:
    from pymia.evaluation.metric import Metric

__all__ = [
    "DEFAULT_CONTINUOUS_METRICS",
    "DEFAULT_SEGMENTATION_METRICS",
    "IMAGE_SUFFIXES",
    "SubjectPair",
    "build_parser",
    "find_pairs",
    "main",
    "parse_labels",
]

PROGRAM = "pymia-evaluate"

#: File name endings read as images, longest first so ``.nii.gz`` wins over ``.gz``.
IMAGE_SUFFIXES = (".nii.gz", ".nii", ".mha", ".mhd", ".nrrd", ".nhdr")

#: Metrics evaluated when ``--metrics`` is not given.
DEFAULT_SEGMENTATION_METRICS = ("DICE", "HDRFDST95", "AVGDIST", "SURFDICE")
DEFAULT_CONTINUOUS_METRICS = ("MAE", "RMSE", "NRMSE", "PSNR", "SSIM")

#: Metric ids whose value depends on ``--tolerance``.
_TOLERANCE_METRICS = ("SURFDICE", "SURFOVLP")


@dataclasses.dataclass(frozen=True)
class SubjectPair:
    """A reference file and the prediction file of the same name."""

    subject: str
    prediction: pathlib.Path
    reference: pathlib.Path


def _subject_name(path: pathlib.Path) -> str | None:
    """The file name without its image extension(s), or ``None`` if it is no image file."""
    name = path.name
    for suffix in IMAGE_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


def _image_files(folder: pathlib.Path, role: str) -> dict[str, pathlib.Path]:
    if not folder.is_dir():
        raise MissingFileError(f"{role} folder {str(folder)!r} does not exist or is not a folder")
    files: dict[str, pathlib.Path] = {}
    for path in sorted(folder.iterdir()):
        subject = _subject_name(path)
        if subject is None or path.name.startswith(".") or not path.is_file():
            continue
        if subject in files:
            raise InvalidInputError(
                f"two {role} files for subject {subject!r}: {files[subject].name} and {path.name}; keep one"
            )
        files[subject] = path
    return files


def find_pairs(reference_folder: pathlib.Path, prediction_folder: pathlib.Path) -> tuple[list[SubjectPair], list[str]]:
    """Pair every reference image with the prediction of the same file name.

    Parameters
    ----------
    reference_folder, prediction_folder : pathlib.Path
        Folders of image files (:data:`IMAGE_SUFFIXES`); other files are ignored.

    Returns
    -------
    pairs : list of SubjectPair
        Sorted by subject name (the file name without its extension(s)).
    unpaired_predictions : list of str
        File names of predictions without a reference (ignored).

    Raises
    ------
    MissingFileError
        If a folder does not exist, or a reference has no prediction of the same name.
    InvalidInputError
        If the reference folder holds no image file, or two files of one folder name the same subject.
    """
    references = _image_files(reference_folder, "reference")
    predictions = _image_files(prediction_folder, "prediction")
    if not references:
        raise InvalidInputError(
            f"no pairs found: the reference folder {str(reference_folder)!r} holds no image file "
            f"({', '.join(IMAGE_SUFFIXES)})"
        )
    pairs = []
    for subject in sorted(references):
        reference = references[subject]
        expected = prediction_folder / reference.name
        if not expected.is_file():
            raise MissingFileError(
                f"prediction missing for reference {str(reference)!r}: expected {str(expected)!r} "
                "(files pair by identical file name)"
            )
        pairs.append(SubjectPair(subject, expected, reference))
    paired = {pair.prediction.name for pair in pairs}
    unpaired = sorted(path.name for path in predictions.values() if path.name not in paired)
    return pairs, unpaired


def parse_labels(tokens: Sequence[str]) -> dict[int | tuple[int, ...], str]:
    """Parse ``--labels`` tokens: ``1=WM`` (label 1 named WM) or ``1+2=TISSUE`` (labels 1 and 2 merged).

    Raises
    ------
    InvalidInputError
        If a token is not ``VALUE[+VALUE...]=NAME`` with integer values, or a name repeats.
    """
    labels: dict[int | tuple[int, ...], str] = {}
    for token in tokens:
        values_text, separator, name = token.partition("=")
        try:
            values = tuple(int(value) for value in values_text.split("+"))
        except ValueError:
            values = ()
        if not separator or not name or not values:
            raise InvalidInputError(
                f"--labels entry {token!r} is not VALUE=NAME; write e.g. 1=WM 2=GM, or 1+2=TISSUE to merge labels"
            )
        if name in labels.values():
            raise InvalidInputError(f"--labels names {name!r} twice; give every label its own name")
        labels[values if len(values) > 1 else values[0]] = name
    return labels


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of ``pymia-evaluate``."""
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description=(
            "Evaluate predictions against references. Files pair by identical file name "
            f"({', '.join(IMAGE_SUFFIXES)}); SUBJECT is the file name without its extension(s)."
        ),
    )
    parser.add_argument("--reference", required=True, type=pathlib.Path, metavar="REF_DIR", help="reference folder")
    parser.add_argument("--prediction", required=True, type=pathlib.Path, metavar="PRED_DIR", help="prediction folder")
    parser.add_argument(
        "--labels",
        nargs="+",
        metavar="VALUE=NAME",
        help="labels to evaluate, e.g. 1=WM 2=GM 3=CSF; 1+2=TISSUE merges labels "
        "(default: every non-zero label in the references, named by its number)",
    )
    parser.add_argument(
        "--metrics",
        nargs="+",
        metavar="ID",
        help=f"metric ids in column order (default: {' '.join(DEFAULT_SEGMENTATION_METRICS)}; "
        f"with --continuous: {' '.join(DEFAULT_CONTINUOUS_METRICS)})",
    )
    parser.add_argument(
        "--tolerance", type=float, default=1.0, metavar="MM", help="tolerance of SURFDICE and SURFOVLP in mm"
    )
    parser.add_argument("-o", "--output", required=True, type=pathlib.Path, help="results CSV file")
    parser.add_argument("--statistics", type=pathlib.Path, help="statistics CSV file (MEAN, STD, COUNT)")
    parser.add_argument("--plot", type=pathlib.Path, help="box-plot figure (PNG, SVG, PDF; needs matplotlib)")
    parser.add_argument("--workers", type=_positive_int, default=1, metavar="N", help="parallel processes")
    parser.add_argument(
        "--continuous", action="store_true", help="evaluate intensity images (reconstruction/regression metrics)"
    )
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _build_metrics(ids: Sequence[str], tolerance: float, continuous: bool) -> list[Metric]:
    from pymia.evaluation.metric import metric_from_id

    if not math.isfinite(tolerance) or tolerance < 0:
        raise InvalidInputError(f"--tolerance must be a non-negative number of mm, got {tolerance}")
    metrics = []
    for metric_id in ids:
        options = {"tolerance": tolerance} if metric_id.upper() in _TOLERANCE_METRICS else {}
        metric = metric_from_id(metric_id, **options)
        if metric.metric in [known.metric for known in metrics]:
            raise InvalidInputError(f"--metrics names {metric.metric!r} twice")
        expected = "continuous" if continuous else "segmentation"
        if metric.kind != expected:
            hint = "add --continuous" if metric.kind == "continuous" else "leave out --continuous"
            raise InvalidInputError(f"metric {metric_id!r} is a {metric.kind} metric; {hint} to evaluate it")
        metrics.append(metric)
    return metrics


def _ignore_metric_warnings() -> None:
    """Worker initializer: undefined values are reported once, as a count, not as one warning each."""
    warnings.simplefilter("ignore", NotComputableMetricWarning)


def _run(args: argparse.Namespace) -> None:
    from pymia.evaluation.evaluator import ContinuousEvaluator, SegmentationEvaluator
    from pymia.evaluation.writer import BoxPlotWriter, CSVStatisticsWriter, CSVWriter
    from pymia.evaluation.writer.plot import require_matplotlib

    if args.continuous and args.labels:
        raise InvalidInputError("--labels applies to segmentations; leave it out with --continuous")
    # Fail before the evaluation, not after it.
    for option, path in (("-o", args.output), ("--statistics", args.statistics), ("--plot", args.plot)):
        if path is not None and path.is_dir():
            raise InvalidInputError(f"{option} {str(path)!r} is a folder; give a file name such as 'results.csv'")
    if args.plot is not None:
        require_matplotlib()
    pairs, unpaired = find_pairs(args.reference, args.prediction)
    if unpaired:
        shown = ", ".join(unpaired[:5]) + (", ..." if len(unpaired) > 5 else "")
        print(
            f"{PROGRAM}: note: {len(unpaired)} prediction(s) without a reference are ignored: {shown}", file=sys.stderr
        )

    default_ids = DEFAULT_CONTINUOUS_METRICS if args.continuous else DEFAULT_SEGMENTATION_METRICS
    metrics = _build_metrics(args.metrics or default_ids, args.tolerance, args.continuous)
    show_progress = sys.stderr.isatty()

    executor = None
    if args.workers > 1:
        executor = concurrent.futures.ProcessPoolExecutor(args.workers, initializer=_ignore_metric_warnings)
    try:
        with warnings.catch_warnings():
            _ignore_metric_warnings()
            if args.continuous:
                evaluator = ContinuousEvaluator(metrics)
            else:
                labels = parse_labels(args.labels) if args.labels else None
                if labels is None:
                    labels = _labels_of_references(pairs, executor)
                evaluator = SegmentationEvaluator(metrics, labels)
            cases = [(str(pair.prediction), str(pair.reference), pair.subject) for pair in pairs]
            results = evaluator.evaluate_cohort(cases, executor=executor, progress=show_progress)
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)

    CSVWriter(args.output).write(results)
    if args.statistics is not None:
        CSVStatisticsWriter(args.statistics).write(results)
    if args.plot is not None:
        BoxPlotWriter(args.plot, title=f"{len(pairs)} subjects").write(results)

    undefined = sum(1 for result in results if isinstance(result.value, float) and math.isnan(result.value))
    summary = f"{PROGRAM}: evaluated {len(pairs)} subject(s), {len(results)} values -> {args.output}"
    if undefined:
        summary += f" ({undefined} undefined, written as nan)"
    print(summary, file=sys.stderr)


def _labels_of_references(
    pairs: Sequence[SubjectPair], executor: concurrent.futures.Executor | None
) -> dict[int | tuple[int, ...], str]:
    """Every non-zero label value of the references, named by its number."""
    from pymia.evaluation.evaluator import present_labels

    paths = [str(pair.reference) for pair in pairs]
    per_file = list(executor.map(present_labels, paths)) if executor is not None else [present_labels(p) for p in paths]
    values = sorted({value for labels in per_file for value in labels})
    if not values:
        raise InvalidInputError(
            "the references contain no non-zero label; check the --reference folder or name labels with --labels"
        )
    return {value: str(value) for value in values}


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pymia-evaluate`` with ``argv`` (default ``sys.argv[1:]``) and return the exit status.

    Returns
    -------
    int
        0 on success, 1 for an error in the inputs (one line on stderr), 2 for a wrong command line
        (argparse's message), 130 when interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        _run(args)
    except PymiaError as error:
        message = " ".join(str(error).split())  # one line, whatever the error text holds
        print(f"{PROGRAM}: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover - exercised through the console script
    sys.exit(main())
