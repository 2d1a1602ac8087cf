#!/usr/bin/env bash
# The main job of README.md, end to end on generated example data:
# example data → HDF5 dataset → train a 2-D U-Net briefly (extract, assemble) → evaluate → CSV + plot.
# Everything is written below output/demo/ (override with DEMO_OUT=...). Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
# shellcheck disable=SC1091
. .venv/bin/activate
out=${DEMO_OUT:-output/demo}
epochs=${DEMO_EPOCHS:-1}
mkdir -p "$out"

echo "== 1/4 example data (8 subjects simulated from the MNI152 2009a template, 2 mm)"
[ -f "$out/example-data/manifest.csv" ] || pymia-example-data -o "$out/example-data" --subjects 8 --seed 0 --no-progress

echo "== 2/4 HDF5 dataset"
pymia-create-dataset --manifest "$out/example-data/manifest.csv" \
  --images T1 T2 --labels GT --mask MASK --numerical age score --categorical sex \
  -o "$out/dataset.h5" --overwrite --no-progress

echo "== 3/4 train a 2-D U-Net briefly, assemble the predictions into volumes"
python examples/training/unet2d_torch.py --dataset "$out/dataset.h5" --output "$out/unet2d" \
  --labels 1=WM 2=GM 3=CSF --epochs "$epochs" --device auto

echo "== 4/4 evaluate the predictions against the references"
python scripts/collect_references.py --example-data "$out/example-data" --output "$out/references" \
  --predictions "$out/unet2d/predictions"
pymia-evaluate --reference "$out/references" --prediction "$out/unet2d/predictions" \
  --labels 1=WM 2=GM 3=CSF --metrics DICE HDRFDST95 AVGDIST SURFDICE --tolerance 2.0 \
  -o "$out/results.csv" --statistics "$out/statistics.csv" --plot "$out/boxplot.png"
echo "Done: $out/results.csv, $out/statistics.csv, $out/boxplot.png"
