"""``pymia-create-dataset``: write a folder of subjects, or the subjects of a manifest CSV, into one HDF5 dataset.

User errors (missing files, bad values, existing output, ...) end with a one-line message on stderr
and exit status 1; bad options with argparse's usage message and status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pymia.data.storage.hdf5_writer import COMPRESSIONS, Hdf5Layout
from pymia.errors import InvalidInputError, PymiaError

__all__ = ["build_parser", "main"]

PROG = "pymia-create-dataset"


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``pymia-create-dataset``."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Write medical images (NIfTI, MetaImage, NRRD, DICOM series folders) and non-image values of\n"
            "many subjects into one pymia HDF5 dataset. Give either DATA_DIR (one sub-folder per subject;\n"
            "a file is found by its key in the name, e.g. Subject_1/Subject_1_T1.mha or sub-01/T1.nii.gz)\n"
            "or --manifest (a CSV with a 'subject' column and one path column per key)."
        ),
        epilog=(
            "examples:\n"
            f"  {PROG} --manifest subjects.csv --images T1 T2 --labels GT --mask MASK "
            "--numerical age score --categorical sex -o dataset.h5\n"
            f"  {PROG} DATA_DIR -o dataset.h5 --images T1 T2 --labels GT --mask MASK "
            "--demographics DATA_DIR/demographics.csv"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("data_dir", nargs="?", metavar="DATA_DIR", help="folder with one sub-folder per subject")
    parser.add_argument(
        "--manifest", metavar="CSV", help="CSV with a 'subject' column, path columns (relative to the CSV) and values"
    )
    parser.add_argument("-o", "--output", required=True, metavar="FILE.h5", help="the dataset file to create")
    parser.add_argument(
        "--images", nargs="+", required=True, metavar="KEY", help="image keys, stacked as channels of 'images'"
    )
    parser.add_argument("--labels", nargs="+", default=[], metavar="KEY", help="label map keys ('labels' category)")
    parser.add_argument("--mask", metavar="KEY", help="key of a mask image ('mask' category)")
    parser.add_argument(
        "--numerical", nargs="+", metavar="COLUMN", help="number columns, stored in the 'numerical' category"
    )
    parser.add_argument(
        "--categorical", nargs="+", metavar="COLUMN", help="text columns; each becomes a category named after it"
    )
    parser.add_argument(
        "--demographics",
        metavar="CSV",
        help="folder mode: CSV with a 'subject' column whose other columns are added (numbers as 'numerical', "
        "text columns as their own category, unless --numerical/--categorical select columns)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, metavar="N", help="load subjects in N processes (default 1: serial)"
    )
    parser.add_argument(
        "--chunks",
        default="none",
        metavar="none|auto|Z,Y,X",
        help="voxel storage: 'none' = contiguous (default, fastest reads), 'auto' = 32 voxels per axis, "
        "or a chunk size per spatial axis in numpy order",
    )
    parser.add_argument(
        "--compression",
        default="none",
        choices=("none", *COMPRESSIONS),
        help="compression of the voxel data (default none; needs chunks, 'auto' is used if --chunks none; "
        "blosc-* need the hdf5plugin package to write and to read)",
    )
    parser.add_argument("--compression-level", type=int, metavar="L", help="codec level (gzip/blosc 0-9)")
    parser.add_argument(
        "--anonymize", action="store_true", help="store pseudonyms instead of subject ids, and no paths or file names"
    )
    parser.add_argument("--anonymize-salt", default="", metavar="SECRET", help="secret mixed into the pseudonyms")
    parser.add_argument("--meta-only", action="store_true", help="store metadata and file paths only, no image voxels")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    parser.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    parser.add_argument(
        "--normalize",
        choices=("none", "zscore"),
        default="none",
        help="intensity normalization of 'images' before writing: 'zscore' per subject and channel (default none)",
    )
    parser.add_argument(
        "--resample",
        action="store_true",
        help="resample images whose grid differs from the subject's first image onto it, instead of failing",
    )
    parser.add_argument(
        "--tolerance", type=float, default=1e-4, metavar="MM", help="geometry tolerance in mm (default 1e-4)"
    )
    return parser


def _layout(chunks: str, compression: str, level: int | None) -> Hdf5Layout:
    text = chunks.strip().lower()
    if text == "none":
        parsed: str | tuple[int, ...] | None = None
    elif text == "auto":
        parsed = "auto"
    else:
        try:
            parsed = tuple(int(v) for v in text.split(","))
        except ValueError:
            raise InvalidInputError(
                f"--chunks {chunks!r} is not 'none', 'auto' or integers separated by commas such as 32,32,32"
            ) from None
    return Hdf5Layout(
        chunks=parsed, compression=None if compression == "none" else compression, compression_level=level
    )


def _run(args: argparse.Namespace) -> None:
    # imported here so that `--help` stays fast
    from pymia.data.creation.discovery import subjects_from_folder, subjects_from_manifest
    from pymia.data.creation.pipeline import create_dataset
    from pymia.data.transformation import IntensityNormalization

    if (args.data_dir is None) == (args.manifest is None):
        raise InvalidInputError("give either DATA_DIR or --manifest CSV (exactly one of them)")
    if args.manifest is not None and args.demographics is not None:
        raise InvalidInputError("--demographics is for folder mode; in manifest mode put the columns in the manifest")
    layout = _layout(args.chunks, args.compression, args.compression_level)
    if args.manifest is not None:
        subjects = subjects_from_manifest(
            args.manifest,
            images=args.images,
            labels=args.labels,
            mask=args.mask,
            numerical=args.numerical or (),
            categorical=args.categorical or (),
        )
    else:
        if (args.numerical or args.categorical) and args.demographics is None:
            raise InvalidInputError("--numerical/--categorical need --demographics CSV in folder mode")
        subjects = subjects_from_folder(
            args.data_dir,
            images=args.images,
            labels=args.labels,
            mask=args.mask,
            demographics=args.demographics,
            numerical=args.numerical,
            categorical=args.categorical,
        )
    transform = IntensityNormalization(loop_axis=-1, entries=("images",)) if args.normalize == "zscore" else None
    output = create_dataset(
        subjects,
        args.output,
        transform=transform,
        meta_only=args.meta_only,
        anonymize=args.anonymize,
        anonymize_salt=args.anonymize_salt,
        layout=layout,
        workers=args.workers,
        progress=not args.no_progress,
        overwrite=args.overwrite,
        resample=args.resample,
        geometry_tolerance=args.tolerance,
    )
    print(f"wrote {len(subjects)} subjects to {output}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pymia-create-dataset`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _run(args)
    except PymiaError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # e.g. disk full while writing; the partial file is already removed
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; no dataset was written", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
