"""Smoke runs of the reference training scripts in ``examples/training`` with ``--quick``.

Each script runs in a subprocess on a tiny phantom dataset written by ``pymia.testing.datasets`` (with an
oblique direction matrix, so the geometry of the written predictions is a real check) and must write the
evaluation CSV, predictions with the reference's geometry, TensorBoard scalars and a checkpoint.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import SimpleITK as sitk

pytest.importorskip("torch")

from pymia.testing.datasets import create_test_dataset
from pymia.testing.phantoms import oblique_direction

SCRIPTS = Path(__file__).resolve().parents[2] / "examples" / "training"
SUBJECTS = ("Subject_1", "Subject_2", "Subject_3")


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("training-data")
    return create_test_dataset(folder / "tiny.h5", n_subjects=3, shape=(10, 16, 18), spacing=(2.0, 1.5, 1.0),
                               direction=oblique_direction(3), origin=(4.0, -3.0, 10.0))


def run_script(name: str, *arguments: str, timeout: float = 600) -> subprocess.CompletedProcess:
    environment = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "2", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, str(SCRIPTS / name), *arguments], capture_output=True, text=True,
                            timeout=timeout, env=environment, check=False)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result


def read_results(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def check_outputs(output: Path, dataset: Path, *, validation: tuple[str, ...] = ("Subject_3",)) -> None:
    """CSV per subject and label, NIfTI on the reference grid, TensorBoard validation scalars."""
    rows = read_results(output / "results.csv")
    assert list(rows[0]) == ["SUBJECT", "LABEL", "DICE", "HDRFDST95"]
    assert sorted({r["SUBJECT"] for r in rows}) == list(validation)
    assert sorted({r["LABEL"] for r in rows}) == ["LABEL1", "LABEL2", "LABEL3"]
    assert all(0.0 <= float(r["DICE"]) <= 1.0 for r in rows)
    for subject in validation:
        prediction = sitk.ReadImage(str(output / "predictions" / f"{subject}.nii.gz"))
        reference = sitk.ReadImage(str(dataset.parent / f"{dataset.stem}_raw" / subject / f"{subject}_GT.nii.gz"))
        assert prediction.GetSize() == reference.GetSize()
        assert prediction.GetSpacing() == pytest.approx(reference.GetSpacing(), abs=1e-5)
        assert prediction.GetOrigin() == pytest.approx(reference.GetOrigin(), abs=1e-4)
        assert prediction.GetDirection() == pytest.approx(reference.GetDirection(), abs=1e-5)
        assert set(sitk.GetArrayViewFromImage(prediction).ravel().tolist()) <= {0, 1, 2, 3}
    summary = json.loads((output / "summary.json").read_text())
    assert 0.0 <= summary["mean_dice"] <= 1.0


def tensorboard_tags(folder: Path) -> set[str]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags: set[str] = set()
    for events in folder.rglob("events.out.tfevents.*"):
        accumulator = EventAccumulator(str(events))
        accumulator.Reload()
        tags.update(accumulator.Tags()["scalars"])
        tags.update(accumulator.Tags()["images"])
    return tags


def test_unet2d_torch_quick(tiny_dataset: Path, tmp_path: Path) -> None:
    """The README demo's command: a seconds-long CPU run on a given dataset."""
    output = tmp_path / "unet"
    result = run_script("unet2d_torch.py", "--dataset", str(tiny_dataset), "--output", str(output), "--quick")
    assert "final mean Dice" in result.stdout
    check_outputs(output, tiny_dataset)
    expected = {"train/loss", "validation/DICE/LABEL1/MEAN", "validation/overlay/Subject_3"}
    assert expected <= tensorboard_tags(output / "tensorboard")
    assert (output / "checkpoint.pt").is_file()


def test_highres3dnet_quick(tiny_dataset: Path, tmp_path: Path) -> None:
    output = tmp_path / "highres"
    run_script("highres3dnet_torch.py", "--dataset", str(tiny_dataset), "--output", str(output), "--quick")
    check_outputs(output, tiny_dataset)


@pytest.mark.slow
def test_cascade_quick(tiny_dataset: Path, tmp_path: Path) -> None:
    """Four training stages in one run (~20 s on 2 idle cores); its pieces have fast tests in test_training_pipeline."""
    output = tmp_path / "cascade"
    run_script("cascade_2d3d_torch.py", "--dataset", str(tiny_dataset), "--output", str(output), "--quick",
               "--max-steps", "1")
    check_outputs(output, tiny_dataset)
    for stage in ("2d-axial", "2d-coronal", "2d-sagittal", "2d3d"):
        assert (output / stage / "results.csv").is_file()
    features = sorted(p.name for p in (output / "features").glob("*.npy"))
    assert features == [f"{s}.npy" for s in SUBJECTS]


def test_baseline_kmeans(tiny_dataset: Path, tmp_path: Path) -> None:
    output = tmp_path / "kmeans"
    run_script("baseline_kmeans.py", "--dataset", str(tiny_dataset), "--output", str(output))
    check_outputs(output, tiny_dataset)


@pytest.mark.slow
def test_unet2d_torch_generates_its_own_quick_dataset_and_resumes(tmp_path: Path) -> None:
    output = tmp_path / "unet-resume"
    run_script("unet2d_torch.py", "--output", str(output), "--quick", "--epochs", "1", "--no-augmentation")
    dataset = output / "quick-dataset.h5"
    assert dataset.is_file()
    result = run_script("unet2d_torch.py", "--dataset", str(dataset), "--output", str(output), "--quick",
                        "--epochs", "2", "--resume", "--no-augmentation")
    assert "resumed from" in result.stdout and "epoch 1:" in result.stdout and "epoch 0:" not in result.stdout
    history = read_results(output / "history.csv")
    assert [row["epoch"] for row in history] == ["0", "1"]


@pytest.mark.slow
def test_unet2d_torch_is_deterministic_for_a_seed(tiny_dataset: Path, tmp_path: Path) -> None:
    summaries = []
    for run in ("a", "b"):
        output = tmp_path / run
        run_script("unet2d_torch.py", "--dataset", str(tiny_dataset), "--output", str(output), "--quick",
                   "--seed", "3", "--deterministic")
        summaries.append(read_results(output / "history.csv")[0]["train_loss"])
    assert summaries[0] == summaries[1]


@pytest.mark.slow
def test_highres3dnet_lung_recipe_switches_to_focal(tiny_dataset: Path, tmp_path: Path) -> None:
    output = tmp_path / "lung"
    run_script("highres3dnet_torch.py", "--dataset", str(tiny_dataset), "--output", str(output), "--quick",
               "--recipe", "lung", "--epochs", "2", "--dice-epochs", "1", "--max-steps", "1")
    check_outputs(output, tiny_dataset)
    assert len(read_results(output / "history.csv")) == 2


@pytest.mark.slow
def test_cascade_paper_optimiser_and_ct_recipe_with_stacking(tiny_dataset: Path, tmp_path: Path) -> None:
    output = tmp_path / "cascade-ct"
    result = run_script("cascade_2d3d_torch.py", "--dataset", str(tiny_dataset), "--output", str(output),
                        "--quick", "--optimizer", "normalized-sgd", "--max-steps", "4", "--batch-size", "2",
                        "--ct-recipe", "--fusion", "stack", "--subnetwork", "conv")
    assert "ensemble (stack)" in result.stdout
    check_outputs(output, tiny_dataset)


@pytest.mark.slow
def test_unet2d_tf_quick(tiny_dataset: Path, tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    output = tmp_path / "unet-tf"
    run_script("unet2d_tf.py", "--dataset", str(tiny_dataset), "--output", str(output), "--quick")
    check_outputs(output, tiny_dataset)
    assert "validation/DICE/LABEL3/MEAN" in tensorboard_tags(output / "tensorboard")
    result = run_script("unet2d_tf.py", "--dataset", str(tiny_dataset), "--output", str(output), "--quick",
                        "--epochs", "2", "--resume")
    assert "resumed from" in result.stdout and "epoch 0:" not in result.stdout
    assert [row["epoch"] for row in read_results(output / "history.csv")] == ["0", "1"]


@pytest.mark.slow
def test_unet2d_torch_ddp_two_cpu_processes(tiny_dataset: Path, tmp_path: Path) -> None:
    """DDP through torchrun with the Gloo backend on the CPU: rank 0 evaluates and writes."""
    output = tmp_path / "ddp"
    environment = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", "29531",
         str(SCRIPTS / "unet2d_torch.py"), "--dataset", str(tiny_dataset), "--output", str(output), "--quick",
         "--device", "cpu"],
        capture_output=True, text=True, timeout=600, env=environment, check=False)
    assert result.returncode == 0, result.stderr[-5000:]
    check_outputs(output, tiny_dataset)


@pytest.mark.gpu
@pytest.mark.parametrize("script", ["unet2d_torch.py", "highres3dnet_torch.py"])
def test_scripts_on_cuda_with_mixed_precision(script: str, tiny_dataset: Path, tmp_path: Path) -> None:
    """The GPU path: CUDA device, autocast (bfloat16 or float16 with loss scaling)."""
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    output = tmp_path / script
    environment = {key: value for key, value in os.environ.items() if key != "CUDA_VISIBLE_DEVICES"}
    result = subprocess.run([sys.executable, str(SCRIPTS / script), "--dataset", str(tiny_dataset), "--output",
                             str(output), "--quick", "--device", "cuda"], capture_output=True, text=True,
                            timeout=600, env=environment, check=False)
    assert result.returncode == 0, result.stderr[-5000:]
    assert json.loads((output / "summary.json").read_text())["device"].startswith("cuda")
    check_outputs(output, tiny_dataset)


@pytest.mark.slow
def test_readme_demo_on_example_data(tmp_path: Path) -> None:
    """The README's path on real example data: pymia-example-data → pymia-create-dataset → U-Net --quick."""
    pytest.importorskip("nilearn")
    from pymia.datasets.brain import generate_brain_dataset

    data = generate_brain_dataset(tmp_path / "example-data", n_subjects=2, progress=False).parent
    dataset = tmp_path / "example.h5"
    subprocess.run([sys.executable, "-m", "pymia.cli.create_dataset", str(data), "-o", str(dataset), "--images",
                    "T1", "T2", "--labels", "GT", "--mask", "MASK", "--no-progress"], check=True, timeout=300)
    output = tmp_path / "unet"
    run_script("unet2d_torch.py", "--dataset", str(dataset), "--output", str(output), "--quick",
               "--labels", "1=WM", "2=GM", "3=CSF")
    rows = read_results(output / "results.csv")
    assert {r["SUBJECT"] for r in rows} == {"Subject_2"} and {r["LABEL"] for r in rows} == {"WM", "GM", "CSF"}
    prediction = sitk.ReadImage(str(output / "predictions" / "Subject_2.nii.gz"))
    reference = sitk.ReadImage(str(data / "Subject_2" / "Subject_2_GT.nii.gz"))
    assert prediction.GetSize() == reference.GetSize()
    assert prediction.GetOrigin() == pytest.approx(reference.GetOrigin(), abs=1e-4)
