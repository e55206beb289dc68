"""Time the views: NetworkView.show_snapshot and a LossPlot holding 10⁶ points.

Run from the repository root::

    python benchmarks/gui_views.py            # offscreen, median of 200

Each network timing is ``show_snapshot`` of a snapshot never shown before
(a network training one step further each time, so θ, u, o and δ all
change) plus a forced repaint of the whole 1280 × 800 widget with
``widget.grab()``: every item, label and both legends are painted, as in the
worst case of the app (which repaints only what changed). The loss-plot
timing is one append (a snapshot's worth of new Err values) + ``flush()`` +
repaint while the plot holds a million points. Prints a Markdown table.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from bpviz.engine import Network, Trainer  # noqa: E402
from bpviz.views.loss_plot import LossPlot  # noqa: E402
from bpviz.views.network_view import NetworkView  # noqa: E402

REPEATS = 200
SIZE = (1280, 800)


def _snapshots(sizes: list[int], count: int) -> list:
    """``count`` snapshots of a network training on random data, one step apart."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, sizes[0]))
    Y = rng.uniform(size=(16, sizes[-1]))
    trainer = Trainer(Network(sizes, seed=0), X, Y, batch_size=16)
    snaps = []
    for _ in range(count):
        trainer.step()
        snaps.append(trainer.snapshot())
    return snaps


def time_network_view(app: QApplication, sizes: list[int]) -> tuple[float, float]:
    """Median ms (wall clock, main-thread CPU) of show_snapshot + repaint."""
    view = NetworkView(sizes)
    view.resize(*SIZE)
    view.show()
    app.processEvents()
    snaps = _snapshots(sizes, REPEATS + 5)  # each shown once: no cache sees one twice
    for s in snaps[:5]:  # warm-up
        view.show_snapshot(s)
        view.grab()
    wall, cpu = [], []
    for s in snaps[5:]:
        t0, c0 = time.perf_counter(), time.thread_time()
        view.show_snapshot(s)
        view.grab()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
    view.close()
    return statistics.median(wall) * 1e3, statistics.median(cpu) * 1e3


class _Fake:
    """The loss fields of a Snapshot, enough for LossPlot.show_snapshot."""

    def __init__(self, losses_from: int, new_losses: np.ndarray, eval_from: int) -> None:
        self.losses_from = losses_from
        self.new_losses = new_losses
        self.eval_from = eval_from
        self.new_eval_iterations = np.array([losses_from + len(new_losses)], dtype=float)
        self.new_train_err = new_losses[-1:].copy()
        self.new_test_err = new_losses[-1:] * 1.1


def time_loss_plot(
    app: QApplication, n_points: int = 1_000_000, batch: int = 100
) -> tuple[float, float]:
    """Median ms (wall, CPU) of append(batch) + flush + repaint with ``n_points`` held."""
    plot = LossPlot()
    plot.resize(*SIZE)
    plot.show()
    rng = np.random.default_rng(0)
    it = np.arange(1, n_points + 1, dtype=float)
    base = 10.0 / np.sqrt(it) + rng.uniform(0, 0.3, size=n_points)
    plot.show_snapshot(_Fake(0, base, 0))
    plot.flush()
    plot.grab()
    held, evals = n_points, 1
    wall, cpu = [], []
    for _ in range(REPEATS):
        new = rng.uniform(0.01, 0.3, size=batch)
        snap = _Fake(held, new, evals)
        t0, c0 = time.perf_counter(), time.thread_time()
        plot.show_snapshot(snap)
        plot.flush()
        plot.grab()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
        held += batch
        evals += 1
    assert plot.point_count() == held
    plot.close()
    return statistics.median(wall) * 1e3, statistics.median(cpu) * 1e3


def main() -> int:
    app = QApplication.instance() or QApplication([])
    rows = [
        ("NetworkView.show_snapshot, 2-4-4-1", 2.0, time_network_view(app, [2, 4, 4, 1])),
        (
            "NetworkView.show_snapshot, 2-8-8-8-8-1",
            4.0,
            time_network_view(app, [2, 8, 8, 8, 8, 1]),
        ),
        (
            "NetworkView.show_snapshot, 4 layers × 32 (32-32-32-32)",
            15.0,
            time_network_view(app, [32, 32, 32, 32]),
        ),
        ("LossPlot append + flush + repaint, 10⁶ points", 10.0, time_loss_plot(app)),
    ]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"Offscreen, widget {SIZE[0]}×{SIZE[1]}, median of {REPEATS}, repaint forced by "
        f"grab(); {os.cpu_count()} CPUs, load average {load:.1f}. Wall clock includes "
        "waiting for a busy CPU; CPU is this thread's own time."
    )
    print()
    print("| case | target | wall | CPU | |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, target, (wall, cpu) in rows:
        ok = "ok" if cpu <= target else "**over**"
        print(f"| {name} | ≤ {target:g} ms | {wall:.2f} ms | {cpu:.2f} ms | {ok} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
