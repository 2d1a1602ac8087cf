"""Slice-wise processing: axial slices in, a segmentation per slice out, assembled into volumes.

A stand-in "network" thresholds the T1 channel of each slice; the assembled label maps are written
as NIfTI files with each subject's geometry and checked against thresholding the whole volume.

    python examples/extraction_assembly/slice_wise.py [--dataset dataset.h5] [--out out_dir]

Without ``--dataset`` a small phantom dataset is created first.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile

import numpy as np
import SimpleITK as sitk

import pymia.data.assembly as assembly
import pymia.data.extraction as extr
from pymia.testing.datasets import create_test_dataset


def network(images: np.ndarray) -> np.ndarray:
    """Stand-in for a 2-D segmentation network: (B, Y, X, C) float → (B, Y, X) labels."""
    return (images[..., 0] > 0.5).astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=pathlib.Path, help="a pymia HDF5 dataset with 'images'")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path(tempfile.mkdtemp()), help="output folder")
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args(argv)
    dataset = args.dataset or create_test_dataset(args.out / "phantoms.h5", overwrite=True)

    datasource = extr.PymiaDatasource(dataset, extr.SliceIndexing(0), extr.DataExtractor(("images",)))
    assembler = assembly.SubjectAssembler(datasource, dtype=np.uint8)
    order = np.random.default_rng(0).permutation(len(datasource))  # shuffled on purpose: order does not matter
    args.out.mkdir(parents=True, exist_ok=True)
    for start in range(0, len(order), args.batch_size):
        indices = order[start : start + args.batch_size].tolist()
        samples = datasource.__getitems__(indices)
        assembler.add_batch(network(np.stack([s["images"] for s in samples])), indices)
        for subject in sorted(assembler.subjects_ready):
            image = assembler.get_assembled_image(subject)
            volume = datasource.direct_extract(extr.DataExtractor(("images",)), subject)["images"]
            expected = network(volume)
            if not np.array_equal(sitk.GetArrayFromImage(image), expected):
                raise RuntimeError(f"subject {subject}: assembled slices differ from the whole-volume result")
            name = datasource.get_subjects()[subject]
            sitk.WriteImage(image, str(args.out / f"{name}_segmentation.nii.gz"))
            print(f"{name}: {image.GetSize()} voxels, spacing {image.GetSpacing()} mm, written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
