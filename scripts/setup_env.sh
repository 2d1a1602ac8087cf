#!/usr/bin/env bash
# Creates .venv if it is missing and installs pymia (editable) with everything the demo and the
# tests need. Idempotent: a stamp keyed by the install recipe skips the installs when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# shellcheck disable=SC1091
. .venv/bin/activate
stamp=.venv/.pymia-install-stamp
recipe=$(cat pyproject.toml scripts/setup_env.sh | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$recipe" ]; then
  python -m pip install -q --upgrade pip
  # torch first and pinned: 2.13.0 is a CPU build; an unpinned torch downloads a multi-GB CUDA build.
  python -m pip install -q torch==2.13.0
  # tensorflow-cpu is a different distribution from `tensorflow`, so it is installed by name and the
  # project's `tf` extra (which names `tensorflow`) is left out here.
  python -m pip install -q tensorflow-cpu
  python -m pip install -q -e ".[torch,tensorboard,examples,distributed,dev,docs]"
  echo "$recipe" > "$stamp"
fi
