"""Evaluate a folder of predicted segmentations against a folder of references with pymia.

Each reference image is paired with the prediction of the same file name. The script computes Dice,
the 95th-percentile Hausdorff distance, the average surface distance and the surface Dice at 1 mm for
every label, and writes

* ``results.csv``: one row per subject and label (``SUBJECT,LABEL,DICE,HDRFDST95,AVGDIST,SURFDICE``),
* ``statistics.csv``: mean, standard deviation and count per label and metric,
* ``boxplot.png``: one panel per metric, one box per label (needs matplotlib),

and prints the statistics. Run it on your own folders::

    python examples/evaluation/evaluate_segmentations.py --reference REF_DIR --prediction PRED_DIR \\
        --labels 1=WM 2=GM 3=CSF --output-dir results --workers 2

or, without data, on synthetic phantoms it writes first (three tissue shells; the predictions are the
references shifted by a voxel and eroded)::

    python examples/evaluation/evaluate_segmentations.py --demo --output-dir results

The command-line tool ``pymia-evaluate`` does the same in one line; this script shows the library calls
behind it, to adapt them (other metrics, other writers, a dask cluster).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import pathlib
import sys

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from pymia.evaluation import metric
from pymia.evaluation.evaluator import SegmentationEvaluator, present_labels
from pymia.evaluation.writer import BoxPlotWriter, ConsoleStatisticsWriter, CSVStatisticsWriter, CSVWriter

IMAGE_SUFFIXES = (".nii.gz", ".nii", ".mha", ".mhd", ".nrrd")
DEMO_LABELS = {1: "WM", 2: "GM", 3: "CSF"}


def write_demo_data(folder: pathlib.Path, n_subjects: int = 4, shape: tuple[int, int, int] = (24, 28, 28)) -> None:
    """Write phantom references (nested ellipsoid shells, labels 1–3) and imperfect predictions."""
    rng = np.random.default_rng(0)
    (folder / "reference").mkdir(parents=True, exist_ok=True)
    (folder / "prediction").mkdir(parents=True, exist_ok=True)
    grid = np.stack(np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij"))
    for i in range(n_subjects):
        radii = 0.8 + 0.1 * rng.random(3)
        distance = np.sqrt(sum((grid[axis] / radii[axis]) ** 2 for axis in range(3)))
        reference = np.zeros(shape, dtype=np.uint8)
        reference[distance < 1.0] = 3  # CSF shell
        reference[distance < 0.8] = 2  # GM shell
        reference[distance < 0.5] = 1  # WM core
        prediction = np.roll(reference, shift=(1, 0, i % 2), axis=(0, 1, 2))
        eroded = ndimage.binary_erosion(prediction == 1, iterations=1)
        prediction[(prediction == 1) & ~eroded] = 2
        for kind, array in (("reference", reference), ("prediction", prediction)):
            image = sitk.GetImageFromArray(array)
            image.SetSpacing((1.0, 1.0, 1.5))  # x, y, z in mm
            sitk.WriteImage(image, str(folder / kind / f"subject_{i + 1:02d}.nii.gz"))


def find_cases(reference_folder: pathlib.Path, prediction_folder: pathlib.Path) -> list[tuple[str, str, str]]:
    """(prediction path, reference path, subject) for every reference that has a prediction of the same name."""
    cases = []
    for reference in sorted(reference_folder.iterdir()):
        suffix = next((s for s in IMAGE_SUFFIXES if reference.name.endswith(s)), None)
        if suffix is None:
            continue
        prediction = prediction_folder / reference.name
        if not prediction.is_file():
            sys.exit(f"error: no prediction {prediction} for reference {reference}")
        cases.append((str(prediction), str(reference), reference.name[: -len(suffix)]))
    if not cases:
        sys.exit(f"error: no reference images ({', '.join(IMAGE_SUFFIXES)}) in {reference_folder}")
    return cases


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=pathlib.Path, help="folder of reference label images")
    parser.add_argument("--prediction", type=pathlib.Path, help="folder of predicted label images (same names)")
    parser.add_argument("--labels", nargs="+", metavar="VALUE=NAME", help="e.g. 1=WM 2=GM (default: all found)")
    parser.add_argument("--output-dir", type=pathlib.Path, required=True, help="where the CSV files and plot go")
    parser.add_argument("--workers", type=int, default=1, help="processes evaluating subjects in parallel")
    parser.add_argument("--demo", action="store_true", help="write and evaluate synthetic phantoms")
    arguments = parser.parse_args(argv)
    if not arguments.demo and (arguments.reference is None or arguments.prediction is None):
        parser.error("give --reference and --prediction, or --demo")
    return arguments


def main(argv: list[str] | None = None) -> None:
    arguments = parse_arguments(argv)
    if arguments.demo:
        write_demo_data(arguments.output_dir / "demo-data")
        arguments.reference = arguments.output_dir / "demo-data" / "reference"
        arguments.prediction = arguments.output_dir / "demo-data" / "prediction"
    cases = find_cases(arguments.reference, arguments.prediction)

    # The metrics: each object is stateless; its id (`metric=`) is the column name of the results.
    metrics = [
        metric.DiceCoefficient(),
        metric.HausdorffDistance(percentile=95, metric="HDRFDST95"),
        metric.AverageDistance(),
        metric.SurfaceDiceOverlap(tolerance=1.0),
    ]
    if arguments.labels:
        labels = {int(value): name for value, name in (token.split("=", 1) for token in arguments.labels)}
    elif arguments.demo:
        labels = DEMO_LABELS
    else:  # every non-zero label of the references, named by its value
        found = sorted({value for _, reference, _ in cases for value in present_labels(reference)})
        labels = {value: str(value) for value in found}
    evaluator = SegmentationEvaluator(metrics, labels)

    # The workers read the image files themselves; the spacing comes from the images (mm).
    if arguments.workers > 1:
        with concurrent.futures.ProcessPoolExecutor(arguments.workers) as executor:
            evaluator.evaluate_cohort(cases, executor=executor)
    else:
        evaluator.evaluate_cohort(cases)

    output = arguments.output_dir
    CSVWriter(output / "results.csv").write(evaluator.results)
    CSVStatisticsWriter(output / "statistics.csv").write(evaluator.results)
    ConsoleStatisticsWriter(precision=3).write(evaluator.results)
    try:
        BoxPlotWriter(output / "boxplot.png", title=f"{len(cases)} subjects").write(evaluator.results)
    except ImportError as error:  # MissingDependencyError derives from ImportError
        print(f"no box plot: {error}")
    print(f"wrote {output / 'results.csv'}, {output / 'statistics.csv'} and the box plot")


if __name__ == "__main__":
    main()
