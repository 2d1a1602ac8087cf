"""The ``pymia-example-data`` command: generate the simulated brain example data.

Usage: ``pymia-example-data -o DIR [--subjects 8] [--seed 0] [--resolution 2] [--overwrite]
[--no-progress] [--predictions PRED_DIR]``. It prints the path of the manifest CSV (and of the
predictions CSV); a user error exits with status 1 and a
one-line message instead of a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pymia.errors import PymiaError

__all__ = ["build_parser", "main"]

PROGRAM = "pymia-example-data"


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``pymia-example-data``."""
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description=(
            "Simulate brain MRI subjects (T1, T2-like, labels, brain mask, age/sex/score) from the MNI152 2009a "
            "template shipped with nilearn, in a folder per subject plus manifest.csv and demographics.csv. "
            "Nothing is downloaded; the same seed gives byte-identical files."
        ),
    )
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="folder to create")
    parser.add_argument("--subjects", type=int, default=8, metavar="N", help="number of subjects (default: 8)")
    parser.add_argument("--seed", type=int, default=0, help="random seed, a non-negative integer (default: 0)")
    parser.add_argument(
        "--resolution",
        type=float,
        default=2.0,
        metavar="MM",
        help="isotropic voxel size in mm: 2 (default, quick) or 1 (the template's resolution, about 10x slower)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace DIR if it holds example data written earlier")
    parser.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    parser.add_argument(
        "--predictions",
        metavar="PRED_DIR",
        help=(
            "also write a perturbed copy of each subject's labels, as if predicted by a network, for evaluation "
            "demos: PRED_DIR/predictions/<subject>.nii.gz, PRED_DIR/references/<subject>.nii.gz (the GT) and "
            "PRED_DIR/predictions.csv; keep PRED_DIR outside DIR"
        ),
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    arguments = build_parser().parse_args(argv)
    # Imported here so that `--help` answers at once.
    from pymia.datasets.brain import generate_brain_dataset
    from pymia.datasets.predictions import generate_predictions

    try:
        manifest = generate_brain_dataset(
            arguments.output,
            n_subjects=arguments.subjects,
            seed=arguments.seed,
            resolution_mm=arguments.resolution,
            progress=not arguments.no_progress,
            overwrite=arguments.overwrite,
        )
        if arguments.predictions is not None:
            predictions = generate_predictions(
                arguments.output,
                arguments.predictions,
                seed=arguments.seed,
                progress=not arguments.no_progress,
                overwrite=arguments.overwrite,
            )
    except PymiaError as error:
        print(f"{PROGRAM}: error: {error}", file=sys.stderr)
        return 1
    print(manifest)
    if arguments.predictions is not None:
        print(predictions)
    return 0
