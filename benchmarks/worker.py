"""Training speed through the worker against the bare engine, and the GUI thread's latency.

Run from the repository root::

    python benchmarks/worker.py                    # 8 paired slices of 0.5 s
    python benchmarks/worker.py --slices 4 --switch-interval 0.001

For each setup, in the same process, in paired time slices (engine, then
worker) so that load from other processes hits both alike; the ratio is the
median of the per-pair ratios:

* **engine**: the bare :class:`~bpviz.engine.Trainer` in this thread, with no
  Qt activity: ``trainer.run(n)`` in chunks of about 1 ms (the fastest way to
  drive it), and a plain ``trainer.step()`` loop for reference;
* **worker**: a :class:`~bpviz.worker.TrainingSession` playing at full speed
  while the GUI thread consumes its snapshots as the app does: a slot appends
  each snapshot's new losses, and a 16 ms timer reads the latest snapshot's
  arrays (a frame). Iterations/s come from the snapshots' iteration counters
  and arrival times;
* **latency**: a 1 ms precise QTimer in the GUI thread while the worker plays
  (with the 60 Hz consumer running); lateness = interval between timeouts
  − 1 ms. "idle" is the same timer with the worker paused.

Targets (issue #3): worker/engine ≥ 0.8; latency p99 ≤ 16 ms. Prints Markdown.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Slot  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from bpviz.engine.experiment import PRESETS, Setup, build  # noqa: E402
from bpviz.worker import TrainingSession  # noqa: E402

SETUPS: dict[str, Setup] = {
    "circle 2-4-4-1, batch 10": PRESETS["circle"][1],
    "spiral 2-8-8-8-8-1, batch 10": Setup(
        dataset="spiral", n_samples=312, test_fraction=0.2, hidden=(8, 8, 8, 8), batch_size=10
    ),
}
FRAME_MS = 16


# -- the bare engine ------------------------------------------------------------------


class Engine:
    """The bare trainer in this thread, with no Qt activity, run in time slices."""

    def __init__(self, setup: Setup) -> None:
        self.trainer, _ = build(setup)
        self.trainer.run(200)  # warm-up
        self.chunk = 1

    def run_rate(self, seconds: float) -> float:
        """Iterations/s of ``Trainer.run`` in ~1 ms chunks (the clock read between chunks)."""
        run, chunk, done = self.trainer.run, self.chunk, 0
        t0 = time.perf_counter()
        end = t0 + seconds
        while True:
            t = time.perf_counter()
            run(chunk)
            done += chunk
            now = time.perf_counter()
            if now - t < 0.0005:
                chunk *= 2
            elif now - t > 0.002 and chunk > 1:
                chunk //= 2
            if now >= end:
                self.chunk = chunk
                return done / (now - t0)

    def step_rate(self, seconds: float) -> float:
        """Iterations/s of a plain ``trainer.step()`` loop."""
        step, done = self.trainer.step, 0
        t0 = time.perf_counter()
        end = t0 + seconds
        while True:
            for _ in range(64):
                step()
            done += 64
            now = time.perf_counter()
            if now >= end:
                return done / (now - t0)


# -- the GUI side -----------------------------------------------------------------------


class Consumer(QObject):
    """Takes snapshots as the app does: store the newest, append losses, draw at 60 Hz."""

    def __init__(self) -> None:
        super().__init__()
        self.latest = None
        self.count = 0
        self.arrivals: list[tuple[float, int]] = []  # (time, iteration)
        self.losses: list[np.ndarray] = []
        self.checksum = 0.0
        self.frame = QTimer(self)
        self.frame.setInterval(FRAME_MS)
        self.frame.timeout.connect(self.draw)

    @Slot(object)
    def on_snapshot(self, snap) -> None:
        self.latest = snap
        self.count += 1
        self.arrivals.append((time.perf_counter(), snap.iteration))
        if len(snap.new_losses):
            self.losses.append(snap.new_losses)

    @Slot()
    def draw(self) -> None:
        snap = self.latest
        if snap is None:
            return
        total = 0.0
        for arrays in (snap.weights, snap.biases, snap.delta, snap.o):
            for a in arrays:
                if a is not None:
                    total += float(a.sum())
        self.checksum += total


class Lateness(QObject):
    """A 1 ms precise timer; records how late each timeout comes."""

    def __init__(self) -> None:
        super().__init__()
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(1)
        self.timer.timeout.connect(self.tick)
        self.last = 0.0
        self.late: list[float] = []

    def start(self) -> None:
        self.late = []
        self.last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    @Slot()
    def tick(self) -> None:
        now = time.perf_counter()
        self.late.append(max(0.0, now - self.last - 0.001))
        self.last = now


def run_loop(seconds: float) -> None:
    """Run the GUI thread's event loop for ``seconds``."""
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def wait_for(predicate, timeout: float = 10.0) -> None:
    loop_end = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > loop_end:
            raise TimeoutError("the worker did not answer")
        run_loop(0.005)


def rate_between(arrivals: list[tuple[float, int]], t0: float, t1: float) -> float:
    """Iterations/s from the first snapshot after t0 to the last before t1."""
    inside = [a for a in arrivals if t0 <= a[0] <= t1]
    (ta, ia), (tb, ib) = inside[0], inside[-1]
    return (ib - ia) / (tb - ta)


def measure(setup: Setup, slices: int, seconds: float, latency_seconds: float) -> dict:
    """Paired slices: the bare engine, then the worker playing; then the GUI's lateness.

    Other processes share the machine, so each worker slice is compared with
    the engine slice just before it and the median of those ratios is kept.
    """
    engine = Engine(setup)
    session = TrainingSession(setup)
    consumer = Consumer()
    session.worker.snapshot_ready.connect(consumer.on_snapshot)
    playing: list[bool] = []
    session.worker.playing_changed.connect(playing.append, Qt.ConnectionType.DirectConnection)
    lateness = Lateness()
    session.start()
    wait_for(lambda: consumer.count > 0)
    consumer.frame.start()
    runs, steps, workers, snaps, ratios = [], [], [], [], []
    try:
        # Idle latency: the worker thread waits for commands.
        lateness.start()
        run_loop(min(latency_seconds, 1.0))
        lateness.stop()
        idle = lateness.late

        session.play()
        run_loop(0.3)  # warm-up: the worker's chunk size settles
        for _ in range(slices):
            session.pause()
            wait_for(lambda: playing[-1] is False)
            steps.append(engine.step_rate(seconds / 4))
            runs.append(engine.run_rate(seconds))
            session.play()
            wait_for(lambda: playing[-1] is True)
            n0 = consumer.count
            t0 = time.perf_counter()
            run_loop(seconds)
            t1 = time.perf_counter()
            workers.append(rate_between(consumer.arrivals, t0, t1))
            snaps.append((consumer.count - n0) / (t1 - t0))
            ratios.append(workers[-1] / runs[-1])

        lateness.start()
        t2 = time.perf_counter()
        run_loop(latency_seconds)
        t3 = time.perf_counter()
        lateness.stop()
        busy = lateness.late
        rate_with_timer = rate_between(consumer.arrivals, t2, t3)
        session.pause()
        wait_for(lambda: playing[-1] is False)
        run_loop(0.05)
    finally:
        finished = session.shutdown()
        consumer.frame.stop()
    if not finished:
        raise RuntimeError("the worker thread did not finish")
    # Every loss arrived (the consumer held them all).
    received = sum(len(x) for x in consumer.losses)
    assert received == consumer.latest.losses_from + len(consumer.latest.new_losses)
    ms = 1e3
    med = statistics.median
    return {
        "engine": med(runs),
        "step": med(steps),
        "worker": med(workers),
        "ratio": med(ratios),
        "ratio_min": min(ratios),
        "snapshots": med(snaps),
        "snapshots_max": max(snaps),
        "worker_1khz": rate_with_timer,
        "p50": float(np.percentile(busy, 50)) * ms,
        "p99": float(np.percentile(busy, 99)) * ms,
        "max": max(busy) * ms,
        "idle_p99": float(np.percentile(idle, 99)) * ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=8, help="paired engine/worker slices")
    parser.add_argument("--seconds", type=float, default=0.5, help="length of one slice")
    parser.add_argument("--latency-seconds", type=float, default=3.0, help="lateness window")
    parser.add_argument(
        "--switch-interval", type=float, default=None, help="sys.setswitchinterval (s)"
    )
    args = parser.parse_args()
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)
    app = QApplication.instance() or QApplication(sys.argv)

    rows = []
    for name, setup in SETUPS.items():
        rows.append((name, measure(setup, args.slices, args.seconds, args.latency_seconds)))
        print(f"# {name}: done", file=sys.stderr, flush=True)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"Python {platform.python_version()}, NumPy {np.__version__}, "
        f"{os.cpu_count()} CPUs (load {load:.1f}), switch interval "
        f"{sys.getswitchinterval() * 1e3:g} ms; {args.slices} paired slices of "
        f"{args.seconds:g} s (medians), lateness over {args.latency_seconds:g} s.\n"
    )
    print(
        "| setup | engine it/s (run) | engine it/s (step loop) | worker it/s | "
        "worker / engine (min) | snapshots/s (max) | GUI lateness p50 / p99 / max (ms) | "
        "idle p99 (ms) | worker it/s with 1 kHz timer |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, m in rows:
        print(
            f"| {name} | {m['engine']:,.0f} | {m['step']:,.0f} | {m['worker']:,.0f} | "
            f"{m['ratio']:.2f} ({m['ratio_min']:.2f}) | "
            f"{m['snapshots']:.0f} ({m['snapshots_max']:.0f}) | "
            f"{m['p50']:.2f} / {m['p99']:.2f} / {m['max']:.1f} | {m['idle_p99']:.2f} | "
            f"{m['worker_1khz']:,.0f} |"
        )
    print("\nTargets: worker / engine ≥ 0.80; GUI lateness p99 ≤ 16 ms.")
    app.quit()


if __name__ == "__main__":
    main()
