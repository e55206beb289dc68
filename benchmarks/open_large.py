"""The GUI thread while the window opens a 10⁶-sample experiment (issue #16).

    python benchmarks/open_large.py              # offscreen; about half a minute
    python benchmarks/open_large.py --samples 200000

Writes an experiment file whose setup asks for the spiral set with 10⁶ samples (2-8-8-1),
shows the real main window at 1280×720, and opens the file as File ▸ Open does. From the
moment of the open until the new network is shown and one second after that, a 1 ms precise
QTimer in the GUI thread records how late each of its timeouts comes (the event loop's
lateness: how long the window could not react). Also records the progress the status bar
showed (each stage's text, as the window received it) and when the window had the new
experiment on screen.

Target (issue #16): lateness p99 ≤ 16 ms. Prints Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from worker import Lateness, run_loop  # noqa: E402

from bpviz.engine.experiment import Setup  # noqa: E402
from bpviz.engine.experiment_io import FORMAT_NAME, FORMAT_VERSION  # noqa: E402


def wait_until(predicate, timeout: float) -> float:
    """Run the event loop until ``predicate()``; return the time it became true."""
    end = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > end:
            raise TimeoutError("the window did not open the experiment in time")
        run_loop(0.002)
    return time.perf_counter()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    args = parser.parse_args()

    app = QApplication.instance() or QApplication([])
    from bpviz.views.main_window import MainWindow

    with tempfile.TemporaryDirectory() as d:
        QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, d)
        setup = Setup(dataset="spiral", n_samples=args.samples, hidden=(8, 8), batch_size=10)
        path = Path(d) / "large.json"
        doc = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "setup": setup.to_dict()}
        path.write_text(json.dumps(doc))

        w = MainWindow(restore=False)
        w.resize(1280, 720)
        w.show()
        wait_until(lambda: w._latest is not None and not w._starting, 30)
        run_loop(0.5)

        stages: list[tuple[float, str]] = []
        bar = getattr(w, "progress_label", None)
        t0 = time.perf_counter()

        def record() -> None:
            if bar is None or not bar.isVisible():
                return
            text = bar.text()
            if not stages or stages[-1][1] != text:
                stages.append((time.perf_counter() - t0, text))

        lateness = Lateness()
        lateness.timer.timeout.connect(record)
        lateness.start()
        t0 = time.perf_counter()
        w.open_experiment(str(path))
        shown = wait_until(
            lambda: (
                w._setup.n_samples == args.samples
                and w._latest is not None
                and w._latest.iteration == 0
                and not w._dirty
            ),
            300,
        )
        run_loop(1.0)
        lateness.stop()
        late_ms = [x * 1000 for x in lateness.late]
        w.close()
        app.processEvents()

    print(f"## Opening a {args.samples:,}-sample experiment in the window\n")
    print(f"load average {os.getloadavg()[0]:.1f}; {len(late_ms)} timeouts of a 1 ms timer\n")
    print("| measurement | target | measured |")
    print("| --- | --- | ---: |")
    print(f"| open to the new network shown | | {shown - t0:.2f} s |")
    print(f"| GUI lateness p50 | | {statistics.median(late_ms):.2f} ms |")
    print(f"| GUI lateness p99 | ≤ 16 ms | **{percentile(late_ms, 99):.2f} ms** |")
    print(f"| GUI lateness max | | {max(late_ms):.1f} ms |")
    if stages:
        print("\nProgress shown (seconds after the open):\n")
        for t, text in stages:
            print(f"- {t:5.2f} s  {text}")
    elif bar is not None:
        print("\n(no progress was visible)")


if __name__ == "__main__":
    main()
