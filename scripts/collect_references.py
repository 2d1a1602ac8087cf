"""Gather the example subjects' label maps as ``<output>/<subject>.nii.gz`` for ``pymia-evaluate``.

``pymia-evaluate`` pairs references and predictions by identical file name, while the example data
keep one folder per subject; the demo uses this to collect the references of the predicted subjects.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pymia.datasets import write_references


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--example-data", type=Path, required=True, help="folder written by pymia-example-data")
    parser.add_argument("--output", type=Path, required=True, help="folder for <subject>.nii.gz references")
    parser.add_argument(
        "--predictions", type=Path, help="only take the subjects that have a file in this folder (e.g. validation)"
    )
    args = parser.parse_args()
    subjects = None
    if args.predictions is not None:
        subjects = [p.name.split(".")[0] for p in args.predictions.iterdir() if p.is_file()]
    write_references(args.example_data, args.output, subjects=subjects)


if __name__ == "__main__":
    main()
