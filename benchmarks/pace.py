"""Real timing of the training process: a set pace, the snapshot rate, shutdown while playing.

Run from the repository root::

    python benchmarks/pace.py            # about a minute
    python benchmarks/pace.py --quick    # shorter slices, fewer repeats

The rules behind these numbers are tested exactly on a fake clock
(``tests/test_training_process.py``): iteration k of a pace p is due at k / p, at most
one 10 ms pace tick late; full speed sends a snapshot every 1/60 s; a tick lasts at
most about 10 ms, so a command (stop included) is taken at once. Here the real session
runs (a :class:`~bpviz.worker.TrainingSession`: QThread, pipe, training process) and
the GUI thread notes when each snapshot arrives:

* **pace**: iterations/s from the first new iteration to the last in the window, the
  gaps between snapshots that bring new iterations (median, 95th percentile, max: at
  paces up to 60/s one snapshot per iteration), and the most iterations one snapshot
  carried (1 = one at a time);
* **full speed**: snapshots/s in slices of one second (median and max of the slices)
  and iterations per snapshot;
* **shutdown while playing**: ``TrainingSession.shutdown()`` on a spiral session that
  plays, one new session per repeat;
* **quit while playing**: a child Python process starts a session, plays, quits its
  event loop at the first trained snapshot, and times ``shutdown()`` (what the app does
  after ``app.exec()``); also the child's whole run.

Targets (what the GUI tests used to assert with wall-clock thresholds; issue #17):
pace within 10 % of the set rate; at most 60 snapshots/s; shutdown < 1 s. Prints
Markdown.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Slot  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from bpviz.engine.experiment import PRESETS, Setup  # noqa: E402
from bpviz.worker import TrainingSession  # noqa: E402

#: What the GUI tests train: XOR's four points, 2-3-1.
SMALL = Setup(dataset="xor4", hidden=(3,), batch_size=4, lr=0.5, test_fraction=0.0)
SPIRAL = PRESETS["spiral"][1]


class Arrivals(QObject):
    """(time, iteration) of every snapshot, noted in the GUI thread as it arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[float, int]] = []

    @Slot(object)
    def on_snapshot(self, snap) -> None:
        self.seen.append((time.perf_counter(), snap.iteration))


def run_loop(seconds: float) -> None:
    """Run the GUI thread's event loop for ``seconds`` (precise: a coarse timer may be 5 % off)."""
    loop = QEventLoop()
    timer = QTimer(singleShot=True, timerType=Qt.TimerType.PreciseTimer)
    timer.timeout.connect(loop.quit)
    timer.start(int(seconds * 1000))
    loop.exec()


def wait_for(predicate, timeout: float = 20.0) -> None:
    end = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > end:
            raise TimeoutError("the training process did not answer")
        run_loop(0.005)


def started(setup: Setup) -> tuple[TrainingSession, Arrivals]:
    session = TrainingSession(setup)
    arrivals = Arrivals()
    session.worker.snapshot_ready.connect(arrivals.on_snapshot)
    session.start()
    wait_for(lambda: arrivals.seen)
    return session, arrivals


def stop(session: TrainingSession) -> None:
    if not session.shutdown():
        raise RuntimeError("the worker thread did not finish")


def measure_pace(pace: float, seconds: float) -> dict:
    """Play at ``pace`` for ``seconds`` after its first iteration; the arrivals of new ones."""
    session, arrivals = started(SMALL)
    try:
        session.set_pace(pace)
        start = arrivals.seen[-1][1]
        session.play()
        wait_for(lambda: arrivals.seen[-1][1] > start)
        run_loop(seconds)
        session.pause()
    finally:
        stop(session)
    new = [(t, i) for t, i in arrivals.seen if i > start]
    firsts = [new[0]] + [b for a, b in itertools.pairwise(new) if b[1] > a[1]]
    (t0, i0), (t1, i1) = firsts[0], firsts[-1]
    gaps = np.diff([t for t, _ in firsts])
    jumps = np.diff([start] + [i for _, i in firsts])
    return {
        "rate": (i1 - i0) / (t1 - t0),
        "gap_median": float(np.median(gaps)),
        "gap_p95": float(np.percentile(gaps, 95)),
        "gap_max": float(gaps.max()),
        "most_per_snapshot": int(jumps.max()),
        "iterations": i1 - start,
    }


def measure_full_speed(slices: int) -> dict:
    """Snapshots/s at full speed in one-second slices."""
    session, arrivals = started(SMALL)
    rates, per_snapshot = [], []
    try:
        session.play()
        wait_for(lambda: arrivals.seen[-1][1] > 0)
        run_loop(0.3)  # warm-up: the chunk size settles
        for _ in range(slices):
            n = len(arrivals.seen)
            t0 = time.perf_counter()
            run_loop(1.0)
            t1 = time.perf_counter()
            window = arrivals.seen[n:]
            rates.append(len(window) / (t1 - t0))
            per_snapshot.append((window[-1][1] - window[0][1]) / max(1, len(window) - 1))
        session.pause()
    finally:
        stop(session)
    return {
        "median": statistics.median(rates),
        "max": max(rates),
        "iterations": statistics.median(per_snapshot),
    }


def measure_shutdown(repeats: int) -> list[float]:
    """Seconds ``shutdown()`` takes while a spiral session plays (a new session each time)."""
    times = []
    for _ in range(repeats):
        session, arrivals = started(SPIRAL)
        session.play()
        wait_for(lambda arrivals=arrivals: len(arrivals.seen) >= 5 and arrivals.seen[-1][1] > 0)
        t0 = time.perf_counter()
        finished = session.shutdown()
        times.append(time.perf_counter() - t0)
        if not finished:
            raise RuntimeError("the worker thread did not finish")
    return times


QUIT_WHILE_PLAYING = textwrap.dedent(
    """
    import os, sys, time
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QObject, Slot
    from PySide6.QtWidgets import QApplication
    from bpviz.engine.experiment import PRESETS
    from bpviz.worker import TrainingSession

    class Counter(QObject):
        iteration = 0
        @Slot(object)
        def on_snapshot(self, snap):
            self.iteration = snap.iteration
            if snap.iteration > 0:  # really playing: quit now, in mid-training
                QApplication.quit()

    app = QApplication(sys.argv)
    session = TrainingSession(PRESETS["spiral"][1])
    counter = Counter()
    session.worker.snapshot_ready.connect(counter.on_snapshot)
    session.start()
    session.play()
    code = app.exec()
    t0 = time.perf_counter()
    finished = session.shutdown()
    print(f"{time.perf_counter() - t0:.6f} {counter.iteration} {finished}")
    sys.exit(code if finished else 3)
    """
)


def measure_quit(repeats: int) -> tuple[list[float], list[float]]:
    """Shutdown after quitting a child's event loop while playing; and the child's whole run."""
    shutdowns, runs = [], []
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    for _ in range(repeats):
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", QUIT_WHILE_PLAYING],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
            env=env,
        )
        runs.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise RuntimeError(f"the child failed ({proc.returncode}): {proc.stderr}")
        seconds, iteration, finished = proc.stdout.split()
        if int(iteration) <= 0 or finished != "True":
            raise RuntimeError(f"the child was not playing or did not finish: {proc.stdout}")
        shutdowns.append(float(seconds))
    return shutdowns, runs


def ms(values: list[float]) -> str:
    """Median / max in ms."""
    return f"{statistics.median(values) * 1e3:.0f} / {max(values) * 1e3:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter slices, fewer repeats")
    args = parser.parse_args()
    seconds, slices, repeats = (2.0, 2, 3) if args.quick else (5.0, 5, 10)
    app = QApplication.instance() or QApplication(sys.argv)

    paces = {p: measure_pace(p, seconds) for p in (100, 20, 4)}
    print("# paces: done", file=sys.stderr, flush=True)
    full = measure_full_speed(slices)
    shutdowns = measure_shutdown(repeats)
    print("# shutdown: done", file=sys.stderr, flush=True)
    quits, runs = measure_quit(repeats)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"Python {platform.python_version()}, NumPy {np.__version__}, "
        f"{os.cpu_count()} CPUs (load {load:.1f} at the end).\n"
    )
    print(
        f"| pace (it/s) | measured it/s (× set; target 0.9–1.1) "
        f"| gap between snapshots with new iterations, median / p95 / max, ms "
        f"| most iterations in one snapshot | iterations in {seconds:g} s |"
    )
    print("| ---: | ---: | ---: | ---: | ---: |")
    for pace, m in paces.items():
        print(
            f"| {pace} | {m['rate']:.1f} (**{m['rate'] / pace:.3f}**) | "
            f"{m['gap_median'] * 1e3:.1f} / {m['gap_p95'] * 1e3:.1f} / {m['gap_max'] * 1e3:.1f} | "
            f"{m['most_per_snapshot']} | {m['iterations']} |"
        )
    print()
    print("| measurement | result | target |")
    print("| --- | ---: | ---: |")
    print(
        f"| full speed: snapshots/s, median (max) of {slices} one-second slices | "
        f"**{full['median']:.1f}** ({full['max']:.1f}) | ≤ 60 |"
    )
    print(f"| full speed: iterations per snapshot (median) | {full['iterations']:,.0f} | |")
    print(
        f"| `shutdown()` while playing (spiral), median / max of {repeats}, ms | "
        f"**{ms(shutdowns)}** | < 1,000 |"
    )
    print(
        f"| quit while playing, child process: `shutdown()` after `app.exec()`, "
        f"median / max of {repeats}, ms | **{ms(quits)}** | < 1,000 |"
    )
    print(
        f"| the same child's whole run (start, play, quit, exit), median / max, ms | {ms(runs)} | |"
    )
    app.quit()


if __name__ == "__main__":
    main()
