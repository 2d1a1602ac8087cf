"""2.5-D: three orthogonal planes per sample, one segmentation per plane, fused by majority vote.

``TriPlanarIndexing`` yields, for voxels along the volume's diagonal, the axial, coronal and
sagittal plane as one (3, H, W, C) sample (planes centred and zero-padded to a common size), so
they batch like any 2-D input. The stand-in network segments each plane;
``PlaneSubjectAssembler`` assembles each plane's volume and fuses them by majority vote.

    python examples/extraction_assembly/two_and_a_half_d.py [--dataset dataset.h5]
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile

import numpy as np

import pymia.data.assembly as assembly
import pymia.data.extraction as extr
from pymia.testing.datasets import create_test_dataset


def network(planes: np.ndarray) -> np.ndarray:
    """Stand-in 2-D network applied to every plane: (B, 3, H, W, C) → (B, 3, H, W) labels."""
    return (planes[..., 0] > 0.5).astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=pathlib.Path, help="a pymia HDF5 dataset of 3-D 'images'")
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args(argv)
    dataset = args.dataset or create_test_dataset(pathlib.Path(tempfile.mkdtemp()) / "phantoms.h5")

    datasource = extr.PymiaDatasource(dataset, extr.TriPlanarIndexing(), extr.DataExtractor(("images",)))
    print(f"{len(datasource)} tri-planar samples, first of shape {datasource[0]['images'].shape}")
    assembler = assembly.PlaneSubjectAssembler(datasource, dtype=np.uint8)  # integer dtype: majority vote
    for start in range(0, len(datasource), args.batch_size):
        indices = list(range(start, min(start + args.batch_size, len(datasource))))
        planes = np.stack([s["images"] for s in datasource.__getitems__(indices)])
        assembler.add_batch(network(planes), indices)
        for subject in sorted(assembler.subjects_ready):
            result = assembler.get_assembled_subject(subject)[..., 0]
            volume = datasource.direct_extract(extr.DataExtractor(("images",)), subject)["images"]
            if not np.array_equal(result, network(volume[None, None])[0, 0]):
                raise RuntimeError(f"subject {subject}: fused planes differ from the whole-volume result")
            print(f"subject {subject}: {result.shape}, {int(result.sum())} foreground voxels")
    return 0


if __name__ == "__main__":
    sys.exit(main())
