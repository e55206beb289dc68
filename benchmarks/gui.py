"""The GUI benchmark of issue #4, in one run.

    python benchmarks/gui.py            # offscreen; about a minute

1. NetworkView.show_snapshot for 2-4-4-1, 2-8-8-8-8-1 and 4 layers × 32 neurons, and a
   LossPlot update holding 10⁶ points (from ``gui_views.py``).
2. Launch to first painted window: wall time from starting ``python -m bpviz``'s code in
   a fresh process to the main window's first paint event (median of 3 launches).
3. The headline: epochs/s on the spiral set (2-8-8-8-8-1, batch 10, 250 training points)
   while the real main window plays and repaints at 60 Hz, against the bare engine
   (``Trainer.run``) in the same run.

Prints a Markdown table of measured values against the issue's targets.
"""

from __future__ import annotations

import os
import statistics
import subprocess
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

SPIRAL = dict(dataset="spiral", n_samples=312, test_fraction=0.2, hidden=(8, 8, 8, 8), batch_size=10)

LAUNCH_PROBE = r"""
import sys, time
t0 = time.perf_counter()
import os
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
from PySide6.QtWidgets import QApplication
QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, sys.argv[1])
app = QApplication([])
from bpviz.views.main_window import MainWindow
w = MainWindow()

class FirstPaint(QObject):
    def eventFilter(self, obj, ev):
        if ev.type() == QEvent.Type.Paint:
            print(f"PAINT {time.perf_counter() - t0:.4f}", flush=True)
            QTimer.singleShot(0, w.close)
            QTimer.singleShot(0, app.quit)
            app.removeEventFilter(self)
        return False

f = FirstPaint()
app.installEventFilter(f)
w.show()
sys.exit(app.exec())
"""


def launch_time() -> float:
    """Seconds from starting the process to the main window's first paint (median of 3)."""
    times = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as d:
            start = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "-c", LAUNCH_PROBE, d],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            for line in proc.stdout:
                if line.startswith("PAINT"):
                    times.append(time.perf_counter() - start)
                    break
            proc.communicate(timeout=60)
    if len(times) < 3:
        raise RuntimeError("the window never painted")
    return statistics.median(times)


def run_event_loop(seconds: float) -> None:
    """Run the GUI thread's event loop for ``seconds``, as ``app.exec()`` runs it.

    The loop sleeps in the event dispatcher between events, with the GIL
    released; a ``while …: app.processEvents()`` spin would instead take the
    GIL back thousands of times a second and slow the training thread down
    (by about a third, measured) in a way the real app never does.
    """
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def epochs_while_drawing(seconds: float = 6.0) -> tuple[float, float, float]:
    """(epochs/s with the window drawing, bare-engine epochs/s, window repaints/s)."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from bpviz.engine.experiment import Setup, build
    from bpviz.views.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as d:
        QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, d)
        setup = Setup(**SPIRAL)
        trainer, _ = build(setup)
        per_epoch = -(-trainer.n_train // setup.batch_size)
        assert trainer.n_train == 250 and per_epoch == 25

        # Bare engine, same process.
        trainer.run(2000)
        t = time.perf_counter()
        n = 0
        while time.perf_counter() - t < seconds / 2:
            trainer.run(1000)
            n += 1000
        bare = n / (time.perf_counter() - t) / per_epoch

        w = MainWindow(setup, restore=False)
        w.resize(1600, 1000)
        w.show()
        paints = []
        orig = w._repaint

        def counting_repaint():
            if w._dirty:
                paints.append(time.perf_counter())
            orig()

        w._frame.timeout.disconnect()
        w._frame.timeout.connect(counting_repaint)
        deadline = time.perf_counter() + 10
        while w._latest is None and time.perf_counter() < deadline:
            app.processEvents()
        w.session.play()
        run_event_loop(1.0)  # warm up
        it0, t0 = w._latest.iteration, time.perf_counter()
        p0 = len(paints)
        run_event_loop(seconds)
        it1, t1 = w._latest.iteration, time.perf_counter()
        drawn = (it1 - it0) / (t1 - t0) / per_epoch
        fps = (len(paints) - p0) / (t1 - t0)
        w.close()
        app.processEvents()
    return drawn, bare, fps


def main() -> int:
    import gui_views

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    rows = []
    for sizes, target in (([2, 4, 4, 1], 4), ([2, 8, 8, 8, 8, 1], 8), ([32, 32, 32, 32], 30)):
        wall, _cpu = gui_views.time_network_view(app, sizes)
        rows.append((f"NetworkView.show_snapshot {'-'.join(map(str, sizes))}", f"≤ {target} ms",
                     f"{wall:.2f} ms", wall <= target))
    lp = gui_views.time_loss_plot(app)
    lp_wall = lp[0] if isinstance(lp, tuple) else lp
    rows.append(("LossPlot update holding 10⁶ points", "≤ 10 ms", f"{lp_wall:.2f} ms", lp_wall <= 10))
    launch = launch_time()
    rows.append(("launch to first painted window", "≤ 1.5 s", f"{launch:.2f} s", launch <= 1.5))
    drawn, bare, fps = epochs_while_drawing()
    rows.append(("spiral 2-8-8-8-8-1, batch 10: epochs/s while the window draws", "≥ 1,000",
                 f"{drawn:,.0f} (window repainted {fps:.0f}/s)", drawn >= 1000))
    rows.append(("same, bare engine (Trainer.run) in this run", "", f"{bare:,.0f}", None))
    rows.append(("ratio drawing / bare", "", f"{drawn / bare:.2f}", None))
    print("| measurement | target | measured | met |")
    print("| --- | --- | --- | --- |")
    for name, target, value, ok in rows:
        mark = "" if ok is None else ("yes" if ok else "**no**")
        print(f"| {name} | {target} | {value} | {mark} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
