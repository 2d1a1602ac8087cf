"""Tests of pymia.data.creation.traverser: order, parameters, checks, parallel loading, anonymization."""

from __future__ import annotations

import concurrent.futures

import numpy as np
import pytest
import SimpleITK as sitk

import pymia.data.definition as defs
from pymia.data.creation.callback import Callback
from pymia.data.creation.traverser import Traverser, default_concat, pseudonym
from pymia.data.subjectfile import SubjectFile
from pymia.data.transformation import IntensityRescale
from pymia.errors import GeometryMismatchError, InvalidInputError, MissingFileError


class Recorder(Callback):
    def __init__(self):
        self.start, self.subjects, self.end = None, [], None

    def on_start(self, params):
        self.start = params

    def on_subject(self, params):
        self.subjects.append(params)

    def on_end(self, params):
        self.end = params


def test_parameters_and_stacking(phantom_subjects, phantom_folder):
    recorder = Recorder()
    Traverser().traverse(phantom_subjects, callback=recorder, progress=False)
    assert recorder.start[defs.KEY_CATEGORIES] == ["images", "labels", "mask", "numerical", "sex"]
    assert recorder.start["images_names"] == ["T1", "T2"] and recorder.start["sex_names"] == ["sex"]
    assert recorder.start["image_categories"] == ["images", "labels", "mask"]
    assert [p[defs.KEY_SUBJECT] for p in recorder.subjects] == ["Subject_1", "Subject_2", "Subject_3"]
    first = recorder.subjects[0]
    t1 = sitk.GetArrayFromImage(sitk.ReadImage(str(phantom_folder / "Subject_1" / "Subject_1_T1.mha")))
    assert first["images"].shape == (*t1.shape, 2)
    np.testing.assert_array_equal(first["images"][..., 0], t1)
    assert first["labels"].dtype == np.uint8 and first["numerical"].dtype == np.float64
    assert first["numerical"].shape == (1, 2) and first["sex"].shape == (1, 1)
    assert first["images_properties"].size == t1.shape[::-1] and first["numerical_properties"] is None
    assert len(first["hashes"]["images"]) == 2 and len(first["subject_hash"]) == 64
    assert recorder.end["n_subjects"] == 3 and recorder.end["images_names"] == ["T1", "T2"]
    assert first["labels_names"] == ["GT"]  # as in pymia 0.3.4, names are also in on_subject


def test_transform_sees_index_arrays_and_properties(phantom_subjects):
    """The creation transform gets the same dictionary as in pymia 0.3.4."""
    seen = []

    def transform(sample):
        seen.append(sorted(k for k in sample if not k.endswith("_properties")))
        assert sample["images_properties"].dimensions == 3 and sample["numerical_properties"] is None
        sample["images"] = sample["images"] * 0 + sample[defs.KEY_SUBJECT_INDEX]
        return sample

    recorder = Recorder()
    Traverser().traverse(phantom_subjects, callback=recorder, transform=transform, progress=False)
    assert seen[0] == ["images", "labels", "mask", "numerical", "sex", "subject_index"]
    assert [int(p["images"].max()) for p in recorder.subjects] == [0, 1, 2]


def test_categories_selection_and_transform(phantom_subjects):
    recorder = Recorder()
    Traverser(categories="images").traverse(
        phantom_subjects, callback=recorder, transform=IntensityRescale(0, 1), progress=False
    )
    assert recorder.start[defs.KEY_CATEGORIES] == ["images"]
    assert recorder.subjects[0]["images"].max() == 1.0
    assert recorder.start["transform"].startswith("IntensityRescale(")


def test_default_concat_stacks_on_last_axis():
    assert default_concat([np.zeros((2, 3)), np.ones((2, 3))]).shape == (2, 3, 2)


@pytest.mark.parametrize(
    "executor_type", [concurrent.futures.ThreadPoolExecutor, concurrent.futures.ProcessPoolExecutor]
)
def test_parallel_loading_keeps_order_and_values(phantom_subjects, executor_type):
    serial, parallel = Recorder(), Recorder()
    Traverser().traverse(phantom_subjects, callback=serial, progress=False)
    with executor_type(max_workers=2) as executor:
        Traverser().traverse(phantom_subjects, callback=parallel, executor=executor, progress=False)
    assert [p["subject"] for p in parallel.subjects] == [p["subject"] for p in serial.subjects]
    for a, b in zip(serial.subjects, parallel.subjects):
        np.testing.assert_array_equal(a["images"], b["images"])
        assert a["subject_hash"] == b["subject_hash"]


def test_anonymize_uses_stable_pseudonyms(phantom_subjects):
    recorder = Recorder()
    Traverser().traverse(phantom_subjects, callback=recorder, anonymize=True, anonymize_salt="s", progress=False)
    ids = [p["subject"] for p in recorder.subjects]
    assert ids == [pseudonym(f"Subject_{i}", "s") for i in (1, 2, 3)]
    assert all(i.startswith("anon-") and "Subject" not in i for i in ids)
    assert pseudonym("Subject_1", "s") != pseudonym("Subject_1", "t")
    assert recorder.start["anonymized"] is True


def test_subject_checks(phantom_subjects):
    t = Traverser()
    with pytest.raises(InvalidInputError, match="needs a callback"):
        t.traverse(phantom_subjects, progress=False)
    with pytest.raises(InvalidInputError, match="no subjects"):
        t.traverse([], callback=Recorder())
    with pytest.raises(InvalidInputError, match=r"duplicate subject ids \['Subject_1'\]"):
        t.traverse([phantom_subjects[0], phantom_subjects[0]], callback=Recorder(), progress=False)
    files = phantom_subjects[1].get_files("images")
    short = SubjectFile("Subject_2", images={"T1": files["T1"]}, labels=phantom_subjects[1].get_files("labels"))
    with pytest.raises(InvalidInputError, match=r"subject 'Subject_2', category 'images' misses \['T2'\]"):
        Traverser(categories=("images", "labels")).traverse(
            [phantom_subjects[0], short], callback=Recorder(), progress=False
        )
    no_mask = SubjectFile("Subject_2", images=files, labels=phantom_subjects[1].get_files("labels"))
    with pytest.raises(InvalidInputError, match="subject 'Subject_2' has no category 'mask'"):
        t.traverse([phantom_subjects[0], no_mask], callback=Recorder(), progress=False)
    with pytest.raises(InvalidInputError, match="SubjectFile objects"):
        t.traverse(["x"], callback=Recorder(), progress=False)


def test_missing_file_names_subject_and_entry(phantom_subjects, phantom_folder):
    (phantom_folder / "Subject_2" / "Subject_2_T2.mha").unlink()
    with pytest.raises(MissingFileError, match=r"subject 'Subject_2', entry 'T2': file '.*Subject_2_T2.mha' does not"):
        Traverser().traverse(phantom_subjects, callback=Recorder(), progress=False)


def _shifted_copy(source, target, *, origin_shift=0.0, spacing=None):
    image = sitk.ReadImage(str(source))
    image.SetOrigin(tuple(o + origin_shift for o in image.GetOrigin()))
    if spacing is not None:
        image.SetSpacing(spacing)
    sitk.WriteImage(image, str(target))
    return str(target)


def test_geometry_mismatch_names_subject_files_and_values(phantom_subjects, tmp_path):
    sf = phantom_subjects[0]
    files = sf.get_files("images")
    files["T2"] = _shifted_copy(files["T2"], tmp_path / "T2.mha", origin_shift=0.5)
    bad = SubjectFile("Subject_1", images=files, labels=sf.get_files("labels"))
    with pytest.raises(GeometryMismatchError, match=r"subject 'Subject_1': entry 'T2' \(.*T2.mha\).*origin"):
        Traverser().traverse([bad], callback=Recorder(), progress=False)
    # within the tolerance it passes
    files["T2"] = _shifted_copy(files["T1"], tmp_path / "T2b.mha", origin_shift=1e-6)
    ok = SubjectFile("Subject_1", images=files, labels=sf.get_files("labels"))
    Traverser().traverse([ok], callback=Recorder(), progress=False)


def test_resample_onto_first_image(phantom_subjects, tmp_path):
    sf = phantom_subjects[0]
    labels = {"GT": _shifted_copy(sf.get_files("labels")["GT"], tmp_path / "GT.nii.gz", spacing=(0.5, 0.75, 1.0))}
    bad = SubjectFile("Subject_1", images=sf.get_files("images"), labels=labels)
    with pytest.raises(GeometryMismatchError, match="spacing"):
        Traverser().traverse([bad], callback=Recorder(), progress=False)
    recorder = Recorder()
    Traverser().traverse([bad], callback=recorder, resample=True, progress=False)
    out = recorder.subjects[0]
    assert out["labels"].shape[:3] == out["images"].shape[:3]
    assert out["labels"].dtype == np.uint8
    assert set(np.unique(out["labels"])) <= {0, 1, 2, 3}  # nearest neighbour keeps label values


def test_vector_images_get_one_channel_per_component(tmp_path):
    vector = sitk.GetImageFromArray(np.arange(2 * 3 * 4 * 3, dtype=np.float32).reshape(2, 3, 4, 3), isVector=True)
    scalar = sitk.GetImageFromArray(np.ones((2, 3, 4), np.float32))
    sitk.WriteImage(vector, str(tmp_path / "v.mha"))
    sitk.WriteImage(scalar, str(tmp_path / "s.mha"))
    recorder = Recorder()
    subject = SubjectFile("A", images={"DTI": str(tmp_path / "v.mha"), "T1": str(tmp_path / "s.mha")})
    Traverser().traverse([subject], callback=recorder, progress=False)
    assert recorder.start["images_names"] == ["DTI:0", "DTI:1", "DTI:2", "T1"]
    assert recorder.subjects[0]["images"].shape == (2, 3, 4, 4)
    np.testing.assert_array_equal(recorder.subjects[0]["images"][..., :3], sitk.GetArrayFromImage(vector))


@pytest.mark.slow
def test_dask_distributed_executor_works_unchanged(phantom_subjects):
    distributed = pytest.importorskip("distributed")
    serial, remote = Recorder(), Recorder()
    Traverser().traverse(phantom_subjects, callback=serial, progress=False)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        Traverser().traverse(phantom_subjects, callback=remote, executor=client.get_executor(), progress=False)
    assert [p["subject"] for p in remote.subjects] == [p["subject"] for p in serial.subjects]
    np.testing.assert_array_equal(remote.subjects[2]["labels"], serial.subjects[2]["labels"])
