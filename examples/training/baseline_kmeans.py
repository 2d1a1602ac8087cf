"""Intensity k-means baseline for the training results table: no network, same split, same evaluation.

Voxel intensities of every channel (z-scored per subject) of the training subjects are clustered with
k-means (``scipy.cluster.vq.kmeans2``); each cluster takes the most frequent training label among its
voxels. Validation subjects are labelled by their nearest cluster centre and evaluated exactly as the
training scripts do (pymia's ``SegmentationEvaluator``: Dice and HD95 per subject and label, CSV + NIfTI).

    python examples/training/baseline_kmeans.py --dataset example.h5 --output runs/kmeans
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pipeline
from scipy.cluster.vq import kmeans2

from pymia.data.extraction import EmptyIndexing, PymiaDatasource


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options (``--help`` lists them)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--dataset", type=Path, required=True, help="pymia HDF5 dataset with 'images' and 'labels'")
    parser.add_argument("--output", type=Path, required=True, help="folder for results.csv and predictions")
    parser.add_argument("--validation-subjects", type=int, help="number of last subjects used for validation")
    parser.add_argument("--labels", nargs="*", metavar="VALUE=NAME", help="label descriptions, e.g. 1=WM 2=GM")
    parser.add_argument("--clusters", type=int, help="number of clusters (default: 2 × number of classes)")
    parser.add_argument("--voxels", type=int, default=200_000, help="training voxels sampled for k-means")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args(argv)
    args.quick = False
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Fit, label, evaluate and write; returns the exit code."""
    args = parse_arguments(argv)
    start, cpu_start = time.perf_counter(), time.process_time()
    dataset = pipeline.ensure_dataset(args)
    summary = pipeline.summarize_dataset(dataset, args.labels)
    train_subjects, validation_subjects = pipeline.split_subjects(len(summary.subjects), args.validation_subjects)
    normalize = pipeline.SubjectIntensityNormalization(
        pipeline.intensity_statistics(dataset, range(len(summary.subjects)), seed=args.seed))
    volumes = PymiaDatasource(dataset, EmptyIndexing(), pipeline.make_extractor(("images", "labels")), normalize)
    rng = np.random.default_rng(args.seed)

    features, labels = [], []
    for subject_index in train_subjects:
        sample = volumes[volumes.samples_of_subject(subject_index)[0]]
        features.append(sample["images"].reshape(-1, summary.image_channels))
        labels.append(sample["labels"].reshape(-1))
    all_features, all_labels = np.concatenate(features), np.concatenate(labels)
    chosen = rng.choice(len(all_features), size=min(args.voxels, len(all_features)), replace=False)
    n_clusters = args.clusters or 2 * summary.n_classes
    centres, assignment = kmeans2(all_features[chosen].astype(np.float64), n_clusters, seed=args.seed,
                                  minit="++")
    cluster_label = np.zeros(n_clusters, dtype=np.uint8)
    for cluster in range(n_clusters):
        members = all_labels[chosen][assignment == cluster]
        if len(members):
            cluster_label[cluster] = np.bincount(members.astype(np.int64)).argmax()

    evaluation = pipeline.VolumeEvaluation(volumes, summary, final=True)
    for subject_index in validation_subjects:
        images = volumes[volumes.samples_of_subject(subject_index)[0]]["images"]
        flat = images.reshape(-1, summary.image_channels).astype(np.float64)
        distances = ((flat[:, None, :] - centres[None]) ** 2).sum(axis=-1)
        label_map = cluster_label[distances.argmin(axis=1)].reshape(images.shape[:-1])
        evaluation.evaluate_label_map(subject_index, label_map)
    result = evaluation.finish()
    csv_path = pipeline.write_outputs(result, args.output)
    values = {"mean_dice": result.mean("DICE"), "mean_hd95_mm": result.mean("HDRFDST95"),
              "dice_per_label": result.mean_per_label("DICE"), "seconds": time.perf_counter() - start,
              "cpu_seconds": time.process_time() - cpu_start,
              "clusters": n_clusters}
    (args.output / "summary.json").write_text(json.dumps(values, indent=2))
    print(f"k-means baseline mean Dice {values['mean_dice']:.4f}; results in {csv_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
