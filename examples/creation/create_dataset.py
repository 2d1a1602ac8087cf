"""Create a pymia HDF5 dataset from the example data and show what is inside.

The example data comes from ``pymia-example-data example-data`` (one folder per subject with T1, T2,
GT and MASK images, plus ``demographics.csv``). This script finds the subjects, writes them into one
HDF5 file with a per-channel z-score, and prints the layout.

    python examples/creation/create_dataset.py [--data example-data] [--output output/example.h5]
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import h5py

from pymia.data.creation.discovery import subjects_from_folder
from pymia.data.creation.pipeline import create_dataset
from pymia.data.transformation import IntensityNormalization
from pymia.errors import PymiaError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="example-data", help="folder written by pymia-example-data")
    parser.add_argument("--output", default="output/example.h5", help="the dataset file to create")
    parser.add_argument("--workers", type=int, default=1, help="processes that load subjects")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing dataset")
    args = parser.parse_args(argv)

    data = pathlib.Path(args.data)
    output = pathlib.Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        # 1. Find each subject's files by their key, and the non-image values in the table.
        subjects = subjects_from_folder(
            data, images=["T1", "T2"], labels=["GT"], mask="MASK", demographics=data / "demographics.csv"
        )
        print(f"found {len(subjects)} subjects in {data}: {', '.join(s.subject for s in subjects)}")
        # 2. Write them: the z-score per image channel is applied before writing, and recorded.
        create_dataset(
            subjects,
            output,
            transform=IntensityNormalization(loop_axis=-1, entries=("images",)),
            workers=args.workers,
            overwrite=args.overwrite,
        )
    except PymiaError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    # 3. Look inside with plain h5py (pymia's datasource reads it for training).
    with h5py.File(output) as f:
        print(f"\n{output} (format version {f.attrs['pymia_format_version']}, transform {f.attrs['transform']})")
        for category in f["data"]:
            names = list(f[f"meta/names/{category}_names"].asstr()[...])
            first = f[f"data/{category}"][sorted(f[f"data/{category}"])[0]]
            print(f"  data/{category:<10} entries {names}, first subject {first.shape} {first.dtype}")
        print(f"  spacing of the first subject (x, y, z, mm): {tuple(f['meta/image_props/spacing'][0])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
