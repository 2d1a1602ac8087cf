"""Worker scaling: how much faster pymia's PyTorch loaders are with 2 worker processes than with none.

``benchmarks/dataloader.py`` times every loader in its own process, one after the other. On a shared
machine the speed of the host drifts by 20-40 % within minutes, and a ratio of two such timings carries
both drifts. Here the loaders with 0 and with 2 workers live in one process and are timed alternately,
one second each, for ``--rounds`` rounds; each round gives one ratio of neighbouring timings, and the
median over the rounds is reported with its quartiles. ``independent`` is the ceiling for this machine:
two processes that each read and batch a whole epoch on their own, with nothing handed to a main process,
against one. Same data and batches as ``dataloader.py``
(16 phantom subjects of 64×128×128, batch 16, random order; 2-D axial slices, 3-D 32³ patches)::

    python benchmarks/worker_scaling.py                 # about 2 minutes per mode and loader
    python benchmarks/worker_scaling.py --modes 2d --loaders BatchLoader --rounds 10

Results: ``benchmarks/results/worker_scaling.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "worker_scaling.json"
BATCH = 16
LOADERS = ("DataLoader", "BatchLoader", "independent")
MODES = ("2d", "3d")


def _loader(kind: str, h5: str, mode: str, workers: int, patch: int, **options):
    from pymia.data.backends.pytorch import create_batch_loader, create_dataloader
    from pymia.data.extraction import DataExtractor, PatchWiseIndexing, PymiaDatasource, SliceIndexing

    indexing = SliceIndexing() if mode == "2d" else PatchWiseIndexing((patch,) * 3)
    datasource = PymiaDatasource(h5, indexing, DataExtractor(categories=("images", "labels")))
    factory = create_batch_loader if kind == "BatchLoader" else create_dataloader
    return factory(datasource, batch_size=BATCH, shuffle=True, seed=0, num_workers=workers, **options)


def _rate(loader, seconds: float) -> float:
    """Samples/s over whole epochs lasting at least ``seconds``."""
    samples = 0
    start = time.perf_counter()
    while samples == 0 or time.perf_counter() - start < seconds:
        samples += sum(batch if isinstance(batch, int) else len(batch["images"]) for batch in loader)
    return samples / (time.perf_counter() - start)


class _IndependentReaders:
    """The ceiling: two processes that each read and batch on their own (a 0-worker BatchLoader), with no
    hand-over to a main process. Iterating over it runs one epoch in both at once and yields their
    batches' sizes; the rate is the sum of both."""

    def __init__(self, h5: str, mode: str, patch: int) -> None:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self.connections, self.processes = [], []
        for _ in range(2):
            ours, theirs = context.Pipe()
            process = context.Process(target=_independent_reader, args=(theirs, h5, mode, patch), daemon=True)
            process.start()
            self.connections.append(ours)
            self.processes.append(process)

    def __iter__(self):
        for connection in self.connections:
            connection.send("epoch")
        for connection in self.connections:
            yield from connection.recv()

    def close(self) -> None:
        for connection in self.connections:
            connection.send("stop")
        for process in self.processes:
            process.join()


def _independent_reader(connection, h5: str, mode: str, patch: int) -> None:
    loader = _loader("BatchLoader", h5, mode, 0, patch)
    while connection.recv() == "epoch":
        connection.send([len(batch["images"]) for batch in loader])


def paired_ratios(kind: str, h5: str, mode: str, rounds: int, seconds: float, patch: int, **options) -> dict:
    """Alternate timings of 0 and 2 workers; the ratio of each round's pair."""
    if kind == "independent":
        loaders = {0: _loader("BatchLoader", h5, mode, 0, patch), 2: _IndependentReaders(h5, mode, patch)}
    else:
        loaders = {workers: _loader(kind, h5, mode, workers, patch, **options) for workers in (0, 2)}
    for loader in loaders.values():
        _rate(loader, 0.0)  # warm-up epoch: workers start, pages are mapped
    zero, two, ratios = [], [], []
    for round_number in range(rounds):
        order = (0, 2) if round_number % 2 == 0 else (2, 0)  # neither setting always goes first
        rates = {workers: _rate(loaders[workers], seconds) for workers in order}
        zero.append(rates[0])
        two.append(rates[2])
        ratios.append(rates[2] / rates[0])
    for loader in loaders.values():
        close = getattr(loader, "close", None)
        if close is not None:
            close()
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
    return {
        "median_ratio": statistics.median(ratios),
        "ratio_quartiles": [quartiles[0], quartiles[2]],
        "ratios": ratios,
        "samples_per_s_0_workers": zero,
        "samples_per_s_2_workers": two,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=16)
    parser.add_argument("--shape", type=int, nargs=3, default=(64, 128, 128), help="(z, y, x) voxels")
    parser.add_argument("--patch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=1.0, help="per timing (whole epochs)")
    parser.add_argument("--loaders", nargs="+", default=list(LOADERS), choices=LOADERS)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--batches-per-message", type=int, help="BatchLoader option (default: its own)")
    parser.add_argument("--output", type=pathlib.Path, default=RESULTS)
    arguments = parser.parse_args(argv)
    if arguments.rounds < 1:
        parser.error("--rounds must be at least 1")

    from pymia.testing.datasets import create_test_dataset

    results: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        h5 = str(
            create_test_dataset(
                pathlib.Path(folder) / "data.h5",
                n_subjects=arguments.subjects,
                shape=tuple(arguments.shape),
                spacing=(1.2, 1.0, 1.0),
            )
        )
        for mode in arguments.modes:
            for kind in arguments.loaders:
                options = {}
                if kind == "BatchLoader" and arguments.batches_per_message:
                    options["batches_per_message"] = arguments.batches_per_message
                result = paired_ratios(kind, h5, mode, arguments.rounds, arguments.seconds, arguments.patch, **options)
                results.setdefault(mode, {})[kind] = result
                low, high = result["ratio_quartiles"]
                print(
                    f"{mode} {kind:<12} 2 workers / 0 workers: median {result['median_ratio']:.2f}× "
                    f"(quartiles {low:.2f}–{high:.2f}, {arguments.rounds} rounds); samples/s median "
                    f"{statistics.median(result['samples_per_s_0_workers']):,.0f} / "
                    f"{statistics.median(result['samples_per_s_2_workers']):,.0f}",
                    flush=True,
                )
    setup = {
        "subjects": arguments.subjects,
        "shape": arguments.shape,
        "patch": arguments.patch,
        "batch": BATCH,
        "rounds": arguments.rounds,
        "seconds": arguments.seconds,
        "batches_per_message": arguments.batches_per_message,
        "cpus": os.cpu_count(),
        "load_at_end": os.getloadavg(),
    }
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps({"setup": setup, "results": results}, indent=2))
    print(f"written to {arguments.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
