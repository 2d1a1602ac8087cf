#!/usr/bin/env bash
# The test command of README.md: installs what it needs, then lint, docs (warnings are errors) and
# the default test suite (slow and GPU tests are excluded; run them with `pytest -m slow`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
# shellcheck disable=SC1091
. .venv/bin/activate
echo "== ruff"
ruff check .
echo "== docs"
python -m sphinx -W --keep-going -q -b html docs docs/_build/html
echo "== pytest"
python -m pytest -m "not slow and not gpu" "$@"
