"""Package-level contracts: cheap import, version, error hierarchy."""

import subprocess
import sys

import pymia
import pymia.errors as errors


def test_import_pymia_imports_no_deep_learning_framework():
    """`import pymia` (and its data/evaluation packages) must not import torch or tensorflow."""
    code = (
        "import sys, pymia, pymia.data, pymia.evaluation; "
        "bad = [m for m in ('torch', 'tensorflow') if m in sys.modules]; "
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"imported: {result.stdout.strip()} {result.stderr[-500:]}"


def test_version_is_a_string():
    assert isinstance(pymia.__version__, str) and pymia.__version__


def test_every_error_derives_from_pymia_error():
    for name in errors.__all__:
        cls = getattr(errors, name)
        if issubclass(cls, Warning):
            assert issubclass(cls, errors.PymiaWarning)
        else:
            assert issubclass(cls, errors.PymiaError)
