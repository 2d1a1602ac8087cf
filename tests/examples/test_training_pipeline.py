"""Shared pieces of the training scripts (``examples/training/pipeline.py``, the cascade's extractor/transform).

Reference values: a perfect prediction must give Dice 1 for every label (definition of Dice); z-scored
intensities have mean 0 and standard deviation 1 (definition) when all voxels are sampled; window bounds
equal ``numpy.quantile`` of the same voxels.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

pytest.importorskip("torch")

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "training"))
import cascade_2d3d_torch
import pipeline

from pymia.data.extraction import EmptyIndexing, PatchWiseIndexing, PymiaDatasource, SliceIndexing
from pymia.data.indexexpression import IndexExpression
from pymia.data.storage.hdf5_reader import get_reader
from pymia.testing.datasets import create_test_dataset
from pymia.testing.phantoms import oblique_direction


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return create_test_dataset(tmp_path_factory.mktemp("pipeline") / "ds.h5", n_subjects=3, shape=(6, 9, 11),
                               direction=oblique_direction(3))


@pytest.mark.parametrize(("n", "n_validation", "expected"), [
    (8, None, ([0, 1, 2, 3, 4, 5], [6, 7])),
    (4, None, ([0, 1, 2], [3])),
    (3, 5, ([0], [1, 2])),
    (1, None, ([0], [0])),
])
def test_split_subjects(n: int, n_validation: int | None, expected: tuple[list[int], list[int]]) -> None:
    assert pipeline.split_subjects(n, n_validation) == expected


def test_parse_label_names() -> None:
    assert pipeline.parse_label_names(["1=WM", "3=CSF"], 4) == {1: "WM", 3: "CSF"}
    assert pipeline.parse_label_names(None, 3) == {1: "LABEL1", 2: "LABEL2"}
    with pytest.raises(SystemExit, match="VALUE=NAME"):
        pipeline.parse_label_names(["WM"], 3)


def test_summary_of_the_test_dataset(dataset: Path) -> None:
    summary = pipeline.summarize_dataset(dataset)
    assert summary.subjects == ["Subject_1", "Subject_2", "Subject_3"]
    assert (summary.image_channels, summary.n_classes, summary.image_shape) == (2, 4, (6, 9, 11))


def test_intensity_normalization_z_scores_each_subject(dataset: Path) -> None:
    statistics = pipeline.intensity_statistics(dataset, [0, 1], sample_fraction=1.0)
    source = PymiaDatasource(dataset, EmptyIndexing(), pipeline.make_extractor(("images",)),
                             pipeline.SubjectIntensityNormalization(statistics), subject_subset=[1])
    images = source[0]["images"]
    assert images.dtype == np.float32
    assert np.allclose(images.reshape(-1, 2).mean(axis=0), 0, atol=1e-5)
    assert np.allclose(images.reshape(-1, 2).std(axis=0), 1, atol=1e-5)


def test_intensity_window_uses_quantiles_of_the_sample(dataset: Path) -> None:
    statistics = pipeline.intensity_statistics(dataset, [0], window=(0.6, 0.99), sample_fraction=1.0)[0]
    reader = get_reader(dataset)
    voxels = np.asarray(reader.data("images", 0)).reshape(-1, 2).astype(np.float64)
    reader.close()
    assert np.allclose(statistics.lower, np.quantile(voxels, 0.6, axis=0))
    assert np.allclose(statistics.upper, np.quantile(voxels, 0.99, axis=0))
    clipped = np.clip(voxels, statistics.lower, statistics.upper)
    assert np.allclose(statistics.mean, clipped.mean(axis=0))


def test_perfect_slice_predictions_assemble_to_dice_one_with_geometry(dataset: Path, tmp_path: Path) -> None:
    summary = pipeline.summarize_dataset(dataset, ["1=inner", "2=middle", "3=outer"])
    source = PymiaDatasource(dataset, SliceIndexing(), pipeline.make_extractor(("labels",)), subject_subset=[2])
    evaluation = pipeline.VolumeEvaluation(source, summary, final=True)
    indices = list(range(len(source)))
    for start in range(0, len(indices), 4):
        batch = source.__getitems__(indices[start : start + 4])
        one_hot = np.eye(4, dtype=np.float32)[np.stack([s["labels"][..., 0] for s in batch])]
        evaluation.add_batch(one_hot, [s["sample_index"] for s in batch], start + 4 >= len(indices))
    result = evaluation.finish()
    assert {r.label for r in result.results} == {"inner", "middle", "outer"}
    assert all(r.value == 1.0 for r in result.results if r.metric == "DICE")
    assert all(r.value == 0.0 for r in result.results if r.metric == "HDRFDST95")
    pipeline.write_outputs(result, tmp_path)
    written = sitk.ReadImage(str(tmp_path / "predictions" / "Subject_3.nii.gz"))
    reference = sitk.ReadImage(str(dataset.parent / "ds_raw" / "Subject_3" / "Subject_3_GT.nii.gz"))
    assert written.GetDirection() == pytest.approx(reference.GetDirection(), abs=1e-6)
    assert np.array_equal(sitk.GetArrayFromImage(written), sitk.GetArrayFromImage(reference))
    assert (tmp_path / "results.csv").read_text().splitlines()[0] == "SUBJECT,LABEL,DICE,HDRFDST95"


def test_feature_extractor_pads_outside_the_volume(tmp_path: Path) -> None:
    volume = np.arange(4 * 5 * 6 * 3, dtype=np.float32).reshape(4, 5, 6, 3)
    np.save(tmp_path / "s.npy", volume)
    extractor = cascade_2d3d_torch.FeatureExtractor({0: tmp_path / "s.npy"})
    sample: dict = {}
    expression = IndexExpression.from_box([(2, 6), (-1, 3), (0, 6)])
    extractor.extract(None, {"subject_index": 0, "index_expr": expression}, sample)
    patch = sample["features"]
    assert patch.shape == (4, 4, 6, 3)
    assert np.array_equal(patch[:2, 1:], volume[2:4, 0:3])
    assert not patch[2:].any() and not patch[:, 0].any()
    whole: dict = {}
    extractor.extract(None, {"subject_index": 0, "index_expr": None}, whole)
    assert np.array_equal(whole["features"], volume)


def test_concatenate_features_appends_channels() -> None:
    sample = {"images": np.zeros((2, 3, 2), np.float32), "features": np.ones((2, 3, 6), np.float32)}
    out = cascade_2d3d_torch.ConcatenateFeatures()(sample)
    assert out["images"].shape == (2, 3, 8) and "features" not in out
    assert not out["images"][..., :2].any() and out["images"][..., 2:].all()


def test_class_targets_follow_the_paper() -> None:
    assert cascade_2d3d_torch.class_targets(4, 0.7) == pytest.approx([0.7, 0.1, 0.1, 0.1])
    assert cascade_2d3d_torch.class_targets(4, 0.4) == pytest.approx([0.4, 0.2, 0.2, 0.2])


def test_patch_grid_with_padding_covers_the_volume(dataset: Path) -> None:
    """The validation grid of the 3-D scripts (pad=True) must reach every voxel for the assembler."""
    source = PymiaDatasource(dataset, PatchWiseIndexing((4, 4, 4), overlap=0.25, pad=True),
                             pipeline.make_extractor(("images",)), subject_subset=[0])
    covered = np.zeros((6, 9, 11), dtype=bool)
    for i in range(len(source)):
        _, expression = source.sample_location(i)
        target, _ = expression.clip((6, 9, 11))
        covered[target] = True
    assert covered.all()
