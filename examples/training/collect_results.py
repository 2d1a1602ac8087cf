"""Collect the ``summary.json`` of several training runs into one table (the CPU results table of the docs).

    python examples/training/collect_results.py runs/kmeans runs/unet2d_torch runs/unet2d_tf -o table.csv

Prints one row per run (mean Dice, Dice per label, mean HD95, CPU and wall seconds, epochs) and writes
it as CSV.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Sequence
from pathlib import Path


def collect(folders: Sequence[Path]) -> list[dict[str, str]]:
    """One row per run folder with a ``summary.json``."""
    rows = []
    for folder in folders:
        path = Path(folder) / "summary.json"
        if not path.is_file():
            raise SystemExit(f"error: {path} does not exist; run the script with --output {folder} first")
        values = json.loads(path.read_text())
        row = {"run": Path(folder).name, "mean_dice": f"{values['mean_dice']:.3f}"}
        row.update({f"dice_{label}": f"{value:.3f}" for label, value in values["dice_per_label"].items()})
        row["mean_hd95_mm"] = f"{values['mean_hd95_mm']:.2f}"
        row["cpu_seconds"] = f"{values.get('cpu_seconds', float('nan')):.0f}"
        row["wall_seconds"] = f"{values.get('train_seconds', values.get('seconds', float('nan'))):.0f}"
        row["epochs"] = str(values.get("epochs_run", ""))
        row["samples"] = str(values.get("samples_seen", ""))
        rows.append(row)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table and write it as CSV; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="output folders of training runs")
    parser.add_argument("-o", "--output", type=Path, help="CSV file to write")
    args = parser.parse_args(argv)
    rows = collect(args.folders)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    widths = {c: max(len(c), *(len(row.get(c, "")) for row in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(row.get(c, "").ljust(widths[c]) for c in columns))
    if args.output is not None:
        with args.output.open("w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
