"""Copy each example subject's label map to ``<output>/<subject>.nii.gz`` for ``pymia-evaluate``.

``pymia-evaluate`` pairs references and predictions by identical file name; the example data keep
one folder per subject (``Subject_1/Subject_1_GT.nii.gz``), so the demo gathers the references here.
"""

from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--example-data", type=Path, required=True, help="folder written by pymia-example-data")
    parser.add_argument("--output", type=Path, required=True, help="folder for <subject>.nii.gz references")
    parser.add_argument("--key", default="GT", help="manifest column of the label maps (default: GT)")
    parser.add_argument(
        "--predictions", type=Path, help="only take the subjects that have a file in this folder (e.g. validation)"
    )
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    wanted = None
    if args.predictions is not None:
        wanted = {p.name.split(".")[0] for p in args.predictions.iterdir() if p.is_file()}
    with open(args.example_data / "manifest.csv", newline="") as f:
        for row in csv.DictReader(f):
            if wanted is not None and row["subject"] not in wanted:
                continue
            source = args.example_data / row[args.key]
            suffix = "".join(source.suffixes[-2:]) if source.name.endswith(".nii.gz") else source.suffix
            shutil.copyfile(source, args.output / f"{row['subject']}{suffix}")


if __name__ == "__main__":
    main()
