"""The glibc malloc setting applied when a tf.data pipeline is built: once, overridable, off on request."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only"
)

CODE = (
    "from pymia.data.backends import memory\n"
    "first = memory.keep_freed_memory()\n"
    "second = memory.keep_freed_memory(1)\n"
    "print(first, second)\n"
)


def _run(env_value: str | None) -> list[int]:
    import os

    env = dict(os.environ)
    env.pop("PYMIA_MALLOC_TOP_PAD", None)
    if env_value is not None:
        env["PYMIA_MALLOC_TOP_PAD"] = env_value
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env=env, check=True)
    return [int(v) for v in out.stdout.split()]


@pytest.mark.parametrize(
    ("env_value", "expected"), [(None, 64 * 2**20), ("1048576", 2**20), ("0", 0), ("not a number", 0)]
)
def test_top_pad_is_set_once_per_process(env_value: str | None, expected: int) -> None:
    """The first call decides; later calls report it and change nothing."""
    assert _run(env_value) == [expected, expected]
