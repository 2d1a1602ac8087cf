"""3-D patches with context for a valid-convolution network, assembled with Gaussian blending.

The stand-in network is a 5×5×5 mean filter without padding: it maps an input of
``patch + 4`` voxels per axis to an output of ``patch`` voxels. ``PadDataExtractor`` reads the
2-voxel context around every patch (zeros outside the volume); the overlapping output patches are
blended and the result equals filtering the whole zero-padded volume.

    python examples/extraction_assembly/patches_padded.py [--dataset dataset.h5] [--patch 8]
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile

import numpy as np
from scipy import ndimage

import pymia.data.assembly as assembly
import pymia.data.extraction as extr
from pymia.testing.datasets import create_test_dataset

BORDER = 2  # a 5×5×5 valid filter loses 2 voxels per side


def network(inputs: np.ndarray) -> np.ndarray:
    """Stand-in valid-convolution network: (B, p+4, p+4, p+4, C) → (B, p, p, p, C) local means."""
    filtered = ndimage.uniform_filter(inputs, size=(1, 5, 5, 5, 1), mode="constant")
    inner = slice(BORDER, -BORDER)
    return filtered[:, inner, inner, inner]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=pathlib.Path, help="a pymia HDF5 dataset with 'images'")
    parser.add_argument("--patch", type=int, default=8, help="output patch edge in voxels")
    parser.add_argument("--batch-size", type=int, default=4)
    args = parser.parse_args(argv)
    dataset = args.dataset or create_test_dataset(pathlib.Path(tempfile.mkdtemp()) / "phantoms.h5")

    grid = extr.PatchWiseIndexing((args.patch,) * 3, overlap=0.5, pad=True)  # covers every voxel
    extractor = extr.PadDataExtractor([(BORDER, BORDER)] * 3, extr.DataExtractor(("images",)))
    datasource = extr.PymiaDatasource(dataset, grid, extractor)
    assembler = assembly.SubjectAssembler(datasource, blending="gaussian")
    worst = 0.0
    for start in range(0, len(datasource), args.batch_size):
        indices = list(range(start, min(start + args.batch_size, len(datasource))))
        inputs = np.stack([s["images"] for s in datasource.__getitems__(indices)])
        assembler.add_batch(network(inputs), indices)
        for subject in sorted(assembler.subjects_ready):
            result = assembler.get_assembled_subject(subject)
            volume = datasource.direct_extract(extr.DataExtractor(("images",)), subject)["images"]
            expected = ndimage.uniform_filter(volume, size=(5, 5, 5, 1), mode="constant")
            error = float(np.abs(result - expected).max())
            worst = max(worst, error)
            print(f"subject {subject}: {result.shape}, max |assembled − whole-volume filter| = {error:.2e}")
    if worst > 1e-4:
        raise RuntimeError(f"assembled patches differ from the whole-volume result by {worst}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
